"""Printers: the local queues (the ``printer.queue`` check) and the targeted ``diag printer``
(``printer``); the CUPS scheduler (``cups``), raw-port PJL (``pjl``), a printer's state and
supplies as verdicts (``state``, ``supplies``), mDNS discovery (``discover``, the only importer
of zeroconf), target parsing (``targets``) and the ipps channel (``tls``).
"""
