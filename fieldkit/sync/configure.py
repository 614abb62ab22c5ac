"""Build the configured backend from config.toml and secrets from the environment or keyring."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fieldkit.config import Config, secret
from fieldkit.errors import ConfigError

ENV_TOKEN = "FIELDKIT_SYNC_TOKEN"
ENV_PASSWORD = "FIELDKIT_SYNC_PASSWORD"
BACKENDS = ("rt",)


def sync_settings(config: Config) -> dict[str, Any]:
    settings = config.section("sync")
    if not settings.get("backend"):
        raise ConfigError(f"no sync backend configured: add a [sync] section to {config.path} "
                          '(backend = "rt", url, queue, user; see docs/sync.md)')
    if settings["backend"] not in BACKENDS:
        raise ConfigError(f"{config.path}: unknown [sync] backend {settings['backend']!r} "
                          f"(known: {', '.join(BACKENDS)})")
    url = str(settings.get("url", ""))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{config.path}: [sync] url must be an http(s) URL (got {url!r})")
    return settings


def build_backend(config: Config, *, insecure: bool = False):
    """The backend named in config.toml (not connected yet: the engine opens it)."""
    settings = sync_settings(config)
    from fieldkit.sync.rt import RTBackend

    url, user = str(settings["url"]), settings.get("user")
    token = secret(ENV_TOKEN, keyring_user=f"token@{url}")
    password = None if token else secret(ENV_PASSWORD, keyring_user=f"{user}@{url}")
    verify: bool | str = True
    if insecure:
        verify = False  # the user opted out for this one call (--insecure)
    elif settings.get("ca_file"):
        verify = str(settings["ca_file"])
    levels = settings.get("escalation_queues", {})
    return RTBackend(url, str(settings.get("queue", "General")), user=user, password=password,
                     token=token, verify=verify,
                     timeout_s=float(settings.get("timeout_s", 30)),
                     custom_fields=settings.get("custom_fields"),
                     escalation_queues={int(k): str(v) for k, v in levels.items()},
                     retries=int(settings.get("retries", 3)),
                     backoff_s=float(settings.get("backoff_s", 0.5)))


def is_plain_http_off_host(config: Config) -> bool:
    parts = urlsplit(str(config.section("sync").get("url", "")))
    return parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1")
