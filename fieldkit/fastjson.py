"""orjson only where it pays for its own import.

orjson parses about three times faster than json and indents far faster than json's pure-Python
indenting encoder, which is what makes ``ticket list --json`` over years of tickets fast. But
importing it costs ~15-20 ms on a slow laptop: more than json needs for a whole store of a few
hundred tickets, and ~8 % of a small command's start-up. So a process parses with json until it
has read ``ORJSON_AFTER`` bytes, then loads orjson for the rest; encoders use orjson only when it
is loaded already (a process that read that much data is the one about to print that much).

What orjson refuses and json accepts (NaN, integers beyond 64 bits, non-string keys) always
goes to json, so json stays the judge of what is damaged and the output layout never changes.
"""

from __future__ import annotations

import json
import sys
from types import ModuleType
from typing import Any

ORJSON_AFTER = 1 << 20  # bytes parsed by json before orjson's import is worth it


class _Budget:
    json_bytes = 0


def loads(raw: bytes | str) -> Any:
    """Parse one document; raises json's errors for anything neither parser accepts."""
    if "orjson" not in sys.modules:
        _Budget.json_bytes += len(raw)
        if _Budget.json_bytes < ORJSON_AFTER:
            return _json_loads(raw)
    import orjson

    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _json_loads(raw)


def _json_loads(raw: bytes | str) -> Any:
    # UTF-8 only, as orjson: json.loads would also guess UTF-16 and UTF-32 from bytes
    return json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)


def loaded() -> ModuleType | None:
    """orjson when this process has already paid for it, else None (use json)."""
    return sys.modules.get("orjson")


def dumps_indented(data: Any) -> str:
    """``json.dumps(data, indent=2, ensure_ascii=False)``, through orjson when it is loaded."""
    orjson = loaded()
    if orjson is not None:
        try:
            return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode("utf-8")
        except TypeError:  # integer keys, integers beyond 64 bits
            pass
    return json.dumps(data, indent=2, ensure_ascii=False)


def compact_encoder() -> Any:
    """A one-line encoder for streaming many items: orjson from the moment it is loaded (a
    stream usually starts before the data that loads it was parsed), else json's C encoder."""
    fallback = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def encode(item: Any) -> str:
        orjson = sys.modules.get("orjson")
        if orjson is not None:
            try:
                return orjson.dumps(item).decode("utf-8")
            except TypeError:
                pass
        return fallback(item)
    return encode
