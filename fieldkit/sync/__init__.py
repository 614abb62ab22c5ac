"""Sync: push what was captured offline to the central ticket system, exactly once.

``engine`` drains the per-ticket outbox the store keeps (see ``fieldkit.tickets.store``) and
knows nothing of any particular ticket system; it talks to a :class:`~fieldkit.sync.backend.Backend`
only. Each backend (``rt`` for Request Tracker 5) lives in its own module behind that interface.
No helpdesk API is idempotent, so exactly-once is the engine's job: search by client id before
creating, re-read after creating, an intent mark before every post, and an event id on every
note and attachment so a retried one is recognised and not posted twice.
"""
