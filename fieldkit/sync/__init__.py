"""Sync: push what was captured offline to the central ticket system, exactly once.

``engine`` drains the per-ticket outbox the store keeps (see ``fieldkit.tickets.store``) and
knows nothing of any particular ticket system; it talks to a :class:`~fieldkit.sync.backend.Backend`
only, whose docstring states the contract exactly-once relies on. Each backend is its own
subpackage (``rt/``, ``sftp/``), found by the name in ``[sync] backend``: adding one is adding
a subpackage and a line below. The phases (``create``, ``post``, ``merge``) work on a run context
(``run.py``) below them; the engine builds it and runs them under the sync lock.
No helpdesk API is idempotent, so exactly-once is the engine's job: search by client id before
creating, re-read after creating, an intent mark before every post, and an event id on every
note and attachment so a retried one is recognised and not posted twice.
"""

# [sync] backend = NAME -> the module providing from_settings(settings, path, *, insecure,
# transport, trust_new_host, ask_password)
BACKENDS = {"rt": "fieldkit.sync.rt", "sftp": "fieldkit.sync.sftp"}


def config_choices() -> dict[str, tuple[str, ...]]:
    """The choice keys sync owns, as the config schema takes them handed in (it sits below
    sync and must not import it): ``[sync] backend`` accepts the names above."""
    return {"sync.backend": tuple(BACKENDS)}
