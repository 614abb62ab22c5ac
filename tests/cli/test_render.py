"""The JSON array stream behind `ticket list --json`: valid JSON whatever the count or values."""

import gc
import json

import pytest

from fieldkit.cli import render


@pytest.mark.parametrize("count", [0, 1, 255, 256, 257, 600])
def test_stream_is_one_valid_array_at_batch_edges(capsys, count):
    render.stream_json_array({"n": i, "title": "Drucker läuft nicht"} for i in range(count))
    assert json.loads(capsys.readouterr().out) == [
        {"n": i, "title": "Drucker läuft nicht"} for i in range(count)]


def test_values_orjson_refuses_fall_back_to_json_and_gc_comes_back(capsys):
    big = 123456789012345678901234567890
    render.stream_json_array(iter([{"big": big}, {"small": 1}]))
    assert json.loads(capsys.readouterr().out) == [{"big": big}, {"small": 1}]
    assert gc.isenabled()


def test_gc_is_enabled_again_when_the_source_fails(capsys):
    def failing():
        yield {"n": 1}
        raise OSError("disk gone")

    with pytest.raises(OSError):
        render.stream_json_array(failing())
    assert gc.isenabled()
