"""Printers: the local queues (the ``printer.queue`` check) and the targeted ``diag printer``
(``printer``); the CUPS scheduler (``cups``), raw-port PJL (``pjl``), a printer's state and
supplies as verdicts (``state``, ``supplies``), mDNS discovery (``discover``, the only importer
of zeroconf), target parsing (``targets``) and the ipps channel (``tls``).
"""

from fieldkit.diagnostics.kinds import Option, TargetedKind, timeout_option

PRINTER = TargetedKind(
    "printer",
    "Why doesn't it print? Queues, state, paper, toner, ports.",
    "With no TARGET: the print queues and the printers behind them.\n\n"
    "\b\nExamples:\n"
    "  fieldkit diag printer\n"
    "  fieldkit diag printer ipp://printer-2.acme.local socket://10.0.0.50\n"
    "  fieldkit diag printer --discover",
    targets="TARGET...",
    targets_help="ipp://host[:port][/path], ipps://host/..., socket://host[:9100], "
                 "lpd://host[/queue], or a host (IPP, then 9100, then 515). None: the "
                 "computer's own print queues.",
    parse="fieldkit.diagnostics.printers.targets:parse_printer_target",
    run="fieldkit.diagnostics.printers.printer:run",
    input_type="printer",
    input_hint="printer URI or host",
    input_words="ipp://host/..., ipps://, socket://host, lpd://host/queue, a host, or \"\" for "
                "this computer's queues",
    options=(Option("discover", ("--discover",),
                    "Also list printers announcing themselves (mDNS).", type="flag",
                    default=False),
             # None: [diag] printer_timeout_s decides (3 s unless configured)
             timeout_option(None, "Seconds per network step (default 3)."),),
    runs_without_targets=True,
    no_probe_help="Ask no printer over the network (the local queues only).",
)
KINDS = (PRINTER,)
