"""fastjson: json for a little data, orjson for a lot; the same values and layout either way."""

import json
import subprocess
import sys

import pytest

from fieldkit import fastjson

ODD = '{"reading": NaN, "counter": 123456789012345678901234567890}'
DOC = {"ref": "FK-1", "title": "Drucker läuft nicht", "n": [1, 2.5, None, True], "e": {}}


def _imports_orjson(code: str) -> bool:
    script = f"import sys\nfrom fieldkit import fastjson\n{code}\nprint('orjson' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    return out.strip() == "True"


def test_a_little_data_never_pays_for_orjson():
    assert not _imports_orjson("fastjson.loads(b'{\"a\": 1}'); fastjson.dumps_indented({'a': 1})")


def test_a_lot_of_data_switches_to_orjson():
    assert _imports_orjson("big = b'[' + b'1,' * (fastjson.ORJSON_AFTER // 2) + b'1]'\n"
                           "fastjson.loads(big); fastjson.loads(b'[2]')")


@pytest.fixture(params=["json", "orjson"])
def parser(request, monkeypatch):
    """Run a test through each path: orjson is forced by an exhausted json budget."""
    if request.param == "orjson":
        monkeypatch.setattr(fastjson, "ORJSON_AFTER", 0)
        import orjson  # noqa: F401 - loaded, so encoders use it too
    elif "orjson" in sys.modules:
        monkeypatch.delitem(sys.modules, "orjson")
        monkeypatch.setattr(fastjson, "ORJSON_AFTER", 1 << 62)
    return request.param


def test_values_json_accepts_are_read_on_both_paths(parser):
    data = fastjson.loads(ODD.encode())
    assert data["counter"] == 123456789012345678901234567890 and data["reading"] != data["reading"]
    assert fastjson.loads(json.dumps(DOC, ensure_ascii=False).encode()) == DOC


@pytest.mark.parametrize("raw", [b'{"title": "print', "{}".encode("utf-16"), b'{"a": "\xff"}'])
def test_damage_is_json_s_error_on_both_paths(parser, raw):
    with pytest.raises((json.JSONDecodeError, UnicodeDecodeError)):
        fastjson.loads(raw)


def test_layout_is_json_s_on_both_paths(parser):
    assert fastjson.dumps_indented(DOC) == json.dumps(DOC, indent=2, ensure_ascii=False)
    assert fastjson.dumps_indented({1: 2**70}) == json.dumps({1: 2**70}, indent=2)
    encode = fastjson.compact_encoder()
    assert encode(DOC) == json.dumps(DOC, ensure_ascii=False, separators=(",", ":"))
    assert encode({"big": 2**70}) == '{"big":1180591620717411303424}'


def test_a_stream_switches_to_orjson_once_it_is_loaded(monkeypatch):
    """`ticket list --json` starts its stream before the shards that load orjson are parsed."""
    monkeypatch.delitem(sys.modules, "orjson", raising=False)
    encode = fastjson.compact_encoder()
    assert encode({"a": 1}) == '{"a":1}'

    class LoadedLater:
        @staticmethod
        def dumps(item):
            return b'"from orjson"'

    monkeypatch.setitem(sys.modules, "orjson", LoadedLater)
    assert encode({"a": 1}) == '"from orjson"'
