"""The language fieldkit speaks to people: German or English, chosen once per process.

Technicians read help, prompts, findings and tips in their language; machines read JSON keys,
status values and check names, which never change. Every user-facing text is written in
English in the code and wrapped in :func:`_` (``ngettext`` for counts) so Babel can extract it;
the German catalog ``fieldkit/locale/de/LC_MESSAGES/fieldkit.mo`` is built from its ``.po``
and shipped in the wheel.

Why module-level state: the language is a property of the run (``--lang``, ``[ui] language``,
the locale), decided once at start-up by the CLI, and every layer (a finding's summary deep in
diagnostics, a checklist prompt, a click error template) needs it without threading a
parameter through each call. English costs nothing: no catalog is opened and
:func:`_` returns its argument. A catalog is read only when a non-English language is chosen.

Texts built at import time (a module constant, a dataclass default) are translated where they
are shown, with :func:`_` called on the constant then; mark such constants with :func:`N_` so
extraction finds them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

LANGUAGES = ("en", "de")
DEFAULT = "en"
DOMAIN = "fieldkit"
LOCALE_DIR = Path(__file__).parent / "locale"
# the locale variables in POSIX order of precedence (LANGUAGE is GNU's list, e.g. "de:en")
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


class _Catalog(Protocol):
    def gettext(self, message: str, /) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int, /) -> str: ...


_catalog: _Catalog | None = None  # None: English, the texts as written
_language = DEFAULT


def language() -> str:
    """The language chosen for this process ("en" or "de")."""
    return _language


def set_language(code: str | None) -> str:
    """Speak ``code`` from now on (None or unknown: English); returns the language used.

    Raises nothing: a missing catalog means English, never a broken command."""
    global _catalog, _language
    chosen = normalise(code) or DEFAULT
    if chosen == DEFAULT:
        _catalog, _language = None, DEFAULT
        return _language
    import gettext

    try:
        with (LOCALE_DIR / chosen / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as handle:
            _catalog = gettext.GNUTranslations(handle)
        _language = chosen
    except OSError:
        _catalog, _language = None, DEFAULT
    return _language


def normalise(code: str | None) -> str | None:
    """"de", "de_DE.UTF-8", "de-AT", "German" -> "de"; "C", "POSIX", "" or unknown -> None."""
    if not code:
        return None
    head = code.strip().lower().replace("-", "_").split(".")[0].split("@")[0].split("_")[0]
    aliases = {"german": "de", "deutsch": "de", "english": "en"}
    head = aliases.get(head, head)
    return head if head in LANGUAGES else None


def from_environment(env: Mapping[str, str] | None = None) -> str | None:
    """The language the locale asks for, as the C library decides it: the first of LANGUAGE
    (a list, used only when the locale is not C/POSIX), LC_ALL, LC_MESSAGES, LANG that is
    set; None when that names no language fieldkit speaks."""
    env = os.environ if env is None else env
    posix = next((env[v] for v in LOCALE_VARIABLES[1:] if env.get(v)), "")
    if env.get("LANGUAGE") and posix not in ("", "C", "POSIX"):
        for part in env["LANGUAGE"].split(":"):
            if normalise(part):
                return normalise(part)
    return normalise(posix)


def choose(flag: str | None, configured: str | None,
           env: Mapping[str, str] | None = None) -> str:
    """``--lang`` beats ``[ui] language`` beats the locale; English when none names one."""
    return normalise(flag) or normalise(configured) or from_environment(env) or DEFAULT


def _(message: str) -> str:
    """``message`` in the chosen language (as written when English or untranslated)."""
    return message if _catalog is None else _catalog.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    if _catalog is None:
        return singular if n == 1 else plural
    return _catalog.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a text for extraction where it is defined; translate it with :func:`_` where it is
    shown (module constants are built before the language is chosen)."""
    return message
