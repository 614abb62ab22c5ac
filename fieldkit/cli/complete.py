"""Shell completion of real values: ticket refs, checklist ids, choices, config keys.

Called by the shell on every <Tab> (``_FIELDKIT_COMPLETE``), so each answer must come fast and
never fail loudly: refs come from the store's small index rows (newest first, no ticket
document parsed), checklist ids from file names, config keys from the schema. Anything that goes
wrong (no store yet, a broken file) completes nothing rather than printing an error into the
user's command line.
"""

from __future__ import annotations

from collections.abc import Callable

MAX_REFS = 50


def refs(incomplete: str) -> list[str]:
    """Ticket refs, newest first (``FK-12``; typing ``12`` or ``fk-1`` matches too)."""
    try:
        from itertools import islice

        from fieldkit.config import home
        from fieldkit.tickets import query
        from fieldkit.tickets.store import TicketStore

        store = TicketStore.at_home(home())
        if not store.exists():
            return []
        wanted = incomplete.lower()
        found = (row.ref for _shards, row in query.rows(store, query.Filter()))
        return list(islice((r for r in found if r.lower().startswith(wanted)
                            or r.lower().removeprefix("fk-").startswith(wanted)), MAX_REFS))
    except Exception:  # noqa: BLE001 - completion completes nothing rather than fail
        return []


def checklist_ids(incomplete: str) -> list[str]:
    """Checklist ids: the user's own and the built-in ones (by file name, nothing parsed)."""
    try:
        from fieldkit.checklists.loader import checklist_dirs
        from fieldkit.config import home

        ids = {path.stem for folder, _builtin in checklist_dirs(home()) if folder.is_dir()
               for path in folder.glob("*.toml")}
        return sorted(i for i in ids if i.startswith(incomplete))
    except Exception:  # noqa: BLE001
        return []


def config_keys(incomplete: str) -> list[str]:
    """``SECTION.KEY`` of every setting; a table's keys as ``SECTION.KEY.SUB``."""
    from fieldkit.configschema import SETTINGS

    names = []
    for s in SETTINGS:
        names += [f"{s.name}.{k}" for k in s.table_keys] if s.kind == "table" else [s.name]
    return [n for n in names if n.startswith(incomplete)]


def of(metavar: str) -> Callable[[str], list[str]]:
    """A completer offering the values an option's help spells ``a|b|c`` (its metavar), so
    the completion and the help cannot drift apart."""
    values = [v for v in metavar.split("|") if v]

    def complete(incomplete: str) -> list[str]:
        return [v for v in values if v.startswith(incomplete.lower())]

    return complete
