"""Diagnostics: small declared checks that each return findings, run concurrently with timeouts.

The core sits here: ``model`` is the one result vocabulary (a :class:`Finding` with a status from
a small fixed set, its evidence in ``data`` and a first-level tip in ``hint``); ``registry``
collects every check declared with :func:`~fieldkit.diagnostics.registry.check` in the domain
packages (``host``, ``net``, ``mail``, ``printers``); ``runner`` runs a selection of them and
builds the run record; ``jobs`` turns a command into data that runs the same here or remotely;
``profiles`` holds the reach target lists. ``wire`` holds the stdlib codecs (IPP, DNS) the
domains share. To add a check, write a function in the right domain module and decorate it:
nothing else needs editing.
"""

# the subpackages whose modules may declare checks (registry) and whose ``KINDS`` list the
# targeted kinds (kinds); the core beside them and the codecs in ``wire`` declare neither
DOMAINS = ("host", "net", "printers", "mail")
