"""The IPP codec: captured answers of real peers, hand-built edge cases, round trips, garbage.

The captures in ``captures/`` are whole answers recorded from ippeveprinter (Get-Printer-
Attributes, requested-attributes ``all``: collections, dateTime, resolution, ranges) and from
a private cupsd (CUPS-Get-Printers, Get-Jobs) by tests/peers/ipp.py's peers.
"""

import struct
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldkit.diagnostics.wire import ipp

CAPTURES = Path(__file__).parent / "captures"


def capture(name):
    return (CAPTURES / f"{name}.ipp").read_bytes()


def test_ippeveprinter_answer():
    message = ipp.decode(capture("ippeveprinter-get-printer-attributes"))
    assert (message.version, message.status_name, message.request_id) == ((2, 0),
                                                                           "successful-ok", 7)
    assert message.ok
    printer = message.first(ipp.PRINTER)
    assert printer["printer-state"] == [3]
    assert printer["printer-is-accepting-jobs"] == [True]
    assert printer["printer-make-and-model"] == ["Acme FieldKit Sim"]
    assert printer["copies-supported"] == [(1, 1)]
    assert printer["printer-resolution-default"] == [(600, 600, 3)]
    assert isinstance(printer["printer-current-time"][0], datetime)
    assert printer["printer-geo-location"] == [None]  # out-of-band 'unknown'
    (media,) = printer["media-col-default"]
    assert media["media-size"] == [{"x-dimension": [21590], "y-dimension": [27940]}]
    assert media["media-source"] == ["main"]
    assert printer["printer-supply"][1].startswith(b"index=2;class=supplyThatIsConsumed")
    assert len(printer["media-source-supported"]) == 4  # additional values join the attribute


def test_cupsd_answers():
    queues = ipp.decode(capture("cupsd-cups-get-printers")).all(ipp.PRINTER)
    assert [q["printer-name"] for q in queues] == [["q1"]]
    assert queues[0]["printer-state"] == [5]
    assert queues[0]["printer-state-reasons"] == ["paused"]
    assert queues[0]["printer-state-message"] == ["swap toner"]
    assert queues[0]["printer-dns-sd-name"] == [None]  # no-value
    jobs = ipp.decode(capture("cupsd-get-jobs")).all(ipp.JOB)
    assert len(jobs) == 1 and jobs[0]["job-state"] == [3]
    assert jobs[0]["job-printer-uri"][0].endswith("/printers/q1")


def test_request_bytes():
    body = ipp.request(ipp.GET_PRINTER_ATTRIBUTES, 42, [
        ipp.Attribute("printer-uri", ipp.URI, ["ipp://p/ipp/print"]),
        ipp.Attribute("requested-attributes", ipp.KEYWORD, ["printer-state", "marker-levels"]),
    ], version=(1, 1))
    assert body[:8] == bytes([1, 1, 0, 0x0B, 0, 0, 0, 42])
    assert body[8] == ipp.OPERATION
    charset = b"\x47\x00\x12attributes-charset\x00\x05utf-8"
    assert body[9:9 + len(charset)] == charset
    assert b"\x44\x00\x14requested-attributes\x00\x0dprinter-state" in body
    assert b"\x44\x00\x00\x00\x0dmarker-levels" in body  # second value: empty name
    assert body.endswith(b"\x03")


def test_every_truncation_is_a_decode_error():
    data = capture("ippeveprinter-get-printer-attributes")
    for cut in range(len(data)):
        with pytest.raises(ipp.DecodeError):
            ipp.decode(data[:cut])


@pytest.mark.parametrize(("body", "words"), [
    (b"\x02\x00\x00\x00\x00\x00\x00\x01\x01\x21\x00\x01a\x00\x02\x00\x01\x03", "integer"),
    (b"\x02\x00\x00\x00\x00\x00\x00\x01\x01\x22\x00\x01a\x00\x02\x00\x01\x03", "boolean"),
    (b"\x02\x00\x00\x00\x00\x00\x00\x01\x01\x44\x00\x00\x00\x01x\x03", "without an attribute"),
    (b"\x02\x00\x00\x00\x00\x00\x00\x01\x44\x00\x01a\x00\x00\x03", "attribute group"),
    (b"\x02\x00\x00\x00\x00\x00\x00\x01\x01\x34\x00\x01c\x00\x00\x03", "collection"),
    (b"\x02\x00\x00\x00\x00\x00\x00\x01\x01\x34\x00\x01c\x00\x00\x21\x00\x00\x00\x04\x00\x00"
     b"\x00\x01\x37\x00\x00\x00\x00\x03", "member name"),
])
def test_malformed(body, words):
    with pytest.raises(ipp.DecodeError, match=words):
        ipp.decode(body)


def test_nesting_is_bounded():
    body = b"\x02\x00\x00\x00\x00\x00\x00\x01\x01\x34\x00\x01c\x00\x00"
    body += b"\x4a\x00\x00\x00\x01m\x34\x00\x00\x00\x00" * 10000
    with pytest.raises(ipp.DecodeError, match="nested deeper"):
        ipp.decode(body)


def test_text_with_language_and_extension():
    lang = struct.pack(">H", 2) + b"de" + struct.pack(">H", 5) + "Flür".encode()
    body = (b"\x02\x00\x00\x00\x00\x00\x00\x01\x04" + b"\x35\x00\x08location" +
            struct.pack(">H", len(lang)) + lang +
            b"\x7f\x00\x03ext\x00\x04\x40\x00\x00\x01" + b"\x03")
    printer = ipp.decode(body).first(ipp.PRINTER)
    assert printer == {"location": ["Flür"], "ext": [b"\x40\x00\x00\x01"]}


def test_status_names():
    message = ipp.Message((1, 1), 0x0503, 1)
    assert message.status_name == "server-error-version-not-supported" and not message.ok
    assert ipp.Message((1, 1), 0x0ABC, 1).status_name == "0x0abc"


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20)
keyword_values = st.lists(st.text(max_size=30), min_size=1, max_size=4)
attribute = st.one_of(
    st.builds(lambda n, v: ipp.Attribute(n, ipp.INTEGER, v), names,
              st.lists(st.integers(-2**31, 2**31 - 1), min_size=1, max_size=4)),
    st.builds(lambda n, v: ipp.Attribute(n, ipp.ENUM, v), names,
              st.lists(st.integers(0, 2**31 - 1), min_size=1, max_size=3)),
    st.builds(lambda n, v: ipp.Attribute(n, ipp.BOOLEAN, v), names,
              st.lists(st.booleans(), min_size=1, max_size=2)),
    st.builds(lambda n, v: ipp.Attribute(n, ipp.KEYWORD, v), names, keyword_values),
    st.builds(lambda n, v: ipp.Attribute(n, ipp.TEXT, v), names, keyword_values),
    st.builds(lambda n, v: ipp.Attribute(n, ipp.OCTET_STRING, v), names,
              st.lists(st.binary(max_size=40), min_size=1, max_size=3)),
    st.builds(lambda n, v: ipp.Attribute(n, ipp.RANGE, v), names,
              st.lists(st.tuples(st.integers(-5, 5), st.integers(0, 99)), min_size=1,
                       max_size=2)),
    st.builds(lambda n, v: ipp.Attribute(n, ipp.RESOLUTION, v), names,
              st.lists(st.tuples(st.integers(1, 2400), st.integers(1, 2400),
                                 st.sampled_from([3, 4])), min_size=1, max_size=2)),
    st.builds(lambda n, v: ipp.Attribute(n, ipp.BEG_COLLECTION, v), names,
              st.lists(st.dictionaries(names, st.lists(st.integers(0, 9), min_size=1,
                                                       max_size=2), min_size=1, max_size=3),
                       min_size=1, max_size=2)),
    st.builds(lambda n: ipp.Attribute(n, ipp.NO_VALUE, [None]), names),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(attribute, max_size=8), st.integers(0, 2**31 - 1),
       st.sampled_from([(1, 1), (2, 0)]))
def test_round_trip(attributes, request_id, version):
    unique = {a.name: a for a in attributes}  # one attribute per name in a group
    message = ipp.Message(version, 0x000B, request_id, [(ipp.PRINTER, list(unique.values()))])
    decoded = ipp.decode(ipp.encode(message))
    assert decoded.first(ipp.PRINTER) == {n: a.values for n, a in unique.items()}
    assert (decoded.version, decoded.request_id) == (version, request_id)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
       st.integers(-12 * 60, 14 * 60))
def test_datetime_round_trip(moment, offset_min):
    tz = timezone(timedelta(minutes=offset_min)) if offset_min else UTC
    value = moment.replace(microsecond=moment.microsecond // 100000 * 100000, tzinfo=tz)
    message = ipp.Message((2, 0), 0, 1, [(ipp.PRINTER, [ipp.Attribute("t", ipp.DATETIME,
                                                                      [value])])])
    assert ipp.decode(ipp.encode(message)).first(ipp.PRINTER)["t"] == [value]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_never_crashes_the_decoder(data):
    try:
        ipp.decode(data)
    except ipp.DecodeError:
        pass
