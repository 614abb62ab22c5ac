"""fieldkit: a field toolkit for 1st-level IT support.

Diagnose the machine in front of you, capture tickets offline, guide the work with checklists,
and sync everything to the central ticket system once back online. The packages below are the
plain-Python core; ``fieldkit.cli`` is the only place that knows about the terminal.
"""

__version__ = "0.1.0"
# the day this release was built: update with __version__. A clock before it is certainly
# wrong (system.clock and mail say so instead of blaming a "not yet valid" certificate)
RELEASE_DATE = "2026-12-01"
