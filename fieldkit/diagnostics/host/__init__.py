"""The machine itself: operating system, uptime and battery (``system``), clock (``clock``),
disks (``disk``); and where those checks read the machine's state (``source``: psutil, or the
kernel's files for a bare python3) and the outside time they compare with (``timesource``).
The registry imports every module here; only ``system``, ``clock`` and ``disk`` declare checks.
"""
