#!/bin/sh
# ippeveprinter's print command (-c): gets the spool file as $1. Lines "STATE: +reason" and
# "STATE: -reason" on stderr change the printer's printer-state-reasons while the job runs.
# The test sets FK_STATE (the reason), FK_HOLD (seconds) and FK_KEEP (1: leave the reason set)
# in the file named by $FK_CTL before it submits the job.
[ -n "$FK_CTL" ] && [ -f "$FK_CTL" ] && . "$FK_CTL"
echo "STATE: +${FK_STATE:-media-jam}" >&2
echo "INFO: fieldkit test printing $1" >&2
sleep "${FK_HOLD:-3}"
[ "${FK_KEEP:-0}" = 1 ] || echo "STATE: -${FK_STATE:-media-jam}" >&2
exit 0
