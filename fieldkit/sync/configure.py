"""Build the configured backend by name, from the validated ``[sync]`` section and secrets."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from fieldkit.config import Config
from fieldkit.errors import ConfigError
from fieldkit.sync import BACKENDS, config_choices
from fieldkit.sync.backend import Backend


def sync_settings(config: Config) -> dict[str, Any]:
    settings = config.section("sync")
    name = settings.get("backend")
    if not name:
        raise ConfigError(f"no sync backend configured: add a [sync] section to {config.path} "
                          '(backend = "rt", url, queue, user; or backend = "sftp" and an '
                          "sftp:// url; see docs/sync.md)")
    if name not in BACKENDS:  # a config loaded without the backend names handed in
        from fieldkit.configschema import refusal, settings_of

        setting = settings_of("sync", config_choices())["backend"]
        raise refusal(config.path, setting, name)
    if not settings.get("url"):
        raise ConfigError(f"{config.path}: [sync] url is missing (where the ticket system is)")
    return settings


def build_backend(config: Config, *, insecure: bool = False, transport: Any = None,
                  trust_new_host: bool = False,
                  ask_password: Callable[[str], str | None] | None = None) -> Backend:
    """The backend named in config.toml (not connected yet: the engine opens it)."""
    settings = sync_settings(config)
    module = importlib.import_module(BACKENDS[settings["backend"]])
    backend: Backend = module.from_settings(settings, config.path, insecure=insecure,
                                            transport=transport, trust_new_host=trust_new_host,
                                            ask_password=ask_password)
    return backend


def is_plain_http_off_host(config: Config) -> bool:
    parts = urlsplit(str(config.section("sync").get("url") or ""))
    return parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1")
