"""Request Tracker 5 backend (REST 2.0), keeping the contract in ``fieldkit/sync/backend.py``.

Batches go to RT's bulk endpoints, which answer per item: ``POST /tickets/bulk`` (creates),
``POST /tickets/bulk/comment`` (notes, time worked, attachments), ``PUT /tickets/bulk``
(updates); searches go as ``POST /tickets`` with TicketSQL. RT answers 200 to an update even
when it refused a value, and a comment's only sign of success is its message, so updates are
confirmed by re-reading the tickets and a comment counts as posted only on RT's success message
(anything else is checked against the ticket's history before it is sent again).

The package: ``backend`` (the verbs), ``client`` (HTTP, retries, failures in words), ``wire``
(RT's vocabulary, shared), ``status`` (compare-and-set from RT's history), ``files``
(multipart uploads), ``find`` (fieldkit's traces in RT), ``check`` (``sync check``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fieldkit.sync.rt.backend import RTBackend
from fieldkit.sync.rt.client import RTClient
from fieldkit.sync.rt.wire import ENV_PASSWORD, ENV_TOKEN

__all__ = ["RTBackend", "RTClient", "from_settings"]


def from_settings(settings: dict[str, Any], path: Path, *, insecure: bool = False,
                  transport: Any = None, trust_new_host: bool = False,
                  ask_password: Any = None) -> RTBackend:
    """The backend for a validated [sync] section; secrets from the environment or keyring
    (``trust_new_host`` and ``ask_password`` are for SSH backends: RT ignores them)."""
    from fieldkit.config import secret
    from fieldkit.configschema import refusal, settings_of

    url = str(settings["url"])
    if urlsplit(url).scheme not in ("http", "https"):
        raise refusal(path, settings_of("sync")["url"], url, "an http(s) URL for backend 'rt'")
    if urlsplit(url).username is not None:
        raise refusal(path, settings_of("sync")["url"], url, "an http(s) URL without a user "
                      "name for backend 'rt' (set [sync] user)")
    user = settings.get("user") or None
    token = secret(ENV_TOKEN, keyring_user=f"token@{url}")
    password = None if token else secret(ENV_PASSWORD, keyring_user=f"{user}@{url}")
    verify: Any = False  # the user opted out for this one call (--insecure)
    if not insecure:
        from fieldkit.trust import client_context

        verify = client_context(settings.get("ca_file") or None, what="[sync] ca_file")
    http = RTClient(url, user=user, password=password, token=token, verify=verify,
                    timeout_s=settings["timeout_s"], retries=settings["retries"],
                    backoff_s=settings["backoff_s"], transport=transport)
    backend = RTBackend(http, settings["queue"], custom_fields=settings["custom_fields"],
                        escalation_queues={int(k): v for k, v in
                                           settings["escalation_queues"].items()},
                        have_credentials=bool(token or (user and password)))
    backend.grace_s = 2 * float(settings["timeout_s"])
    return backend
