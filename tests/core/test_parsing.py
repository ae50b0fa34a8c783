"""`core.parsing`: numbers typed as text are ASCII digits, bounded, in range — or a ValueError / None."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yinli.core.idempotency import canonical_json, parse_body, request_fingerprint
from yinli.core.parsing import (
    INT64_MAX,
    number_or_text,
    optional_int,
    parse_id,
    parse_int,
    split_decimal,
)

NOT_INTS = [
    "",
    " ",
    "²",
    "١٢",
    "٣",
    "１２",
    "+5",
    " 5",
    "5 ",
    "1_000",
    "5.0",
    "1e3",
    "0x10",
    "--1",
    "-",
    "9" * 20,
    "9" * 5000,
]


@pytest.mark.parametrize("text", NOT_INTS)
def test_not_plain_digits_is_not_an_int(text):
    with pytest.raises(ValueError):
        parse_int(text)
    assert parse_id(text) is None
    assert number_or_text(text) == (None if text == "" else text)


@pytest.mark.parametrize(
    ("text", "lo", "hi", "expected"),
    [
        ("0", 0, 10, 0),
        ("10", 0, 10, 10),
        ("-3", -5, 5, -3),
        ("007", 0, 10, 7),
        (str(INT64_MAX), 0, INT64_MAX, INT64_MAX),
    ],
)
def test_plain_digits_in_range(text, lo, hi, expected):
    assert parse_int(text, lo=lo, hi=hi) == expected


@pytest.mark.parametrize(("text", "lo", "hi"), [("11", 0, 10), ("-1", 0, 10), (str(2**63), 0, INT64_MAX)])
def test_out_of_range_is_refused(text, lo, hi):
    with pytest.raises(ValueError):
        parse_int(text, lo=lo, hi=hi)


def test_ids_are_one_to_two_to_the_53():
    assert parse_id("1") == 1 and parse_id(str(2**53)) == 2**53
    assert parse_id("0") is None and parse_id("-1") is None and parse_id(str(2**53 + 1)) is None
    assert parse_id(None) is None
    assert optional_int("") is None and optional_int("5") == 5


@given(st.integers(min_value=-INT64_MAX, max_value=INT64_MAX))
@settings(deadline=None)
def test_every_int64_round_trips(n):
    assert parse_int(str(n)) == n


@given(st.text(max_size=30))
@settings(deadline=None)
def test_any_text_is_an_int_or_a_value_error(text):
    try:
        n = parse_int(text)
    except ValueError:
        return
    assert text == str(int(text)) or text.lstrip("-").startswith("0")
    assert text.isascii() and -INT64_MAX <= n <= INT64_MAX


@pytest.mark.parametrize(
    ("text", "expected"),
    [("39", (39, 0)), ("39.9", (39, 90)), ("39.90", (39, 90)), ("0.05", (0, 5)), ("12.5", (12, 50))],
)
def test_plain_decimals(text, expected):
    assert split_decimal(text, places=2) == expected


@pytest.mark.parametrize("text", ["", ".", "39.", ".5", "39.999", "-1", "1e3", "1_000", "١٢", "²", "NaN", "Infinity"])
def test_not_plain_decimals(text):
    assert split_decimal(text, places=2) is None


def test_the_fingerprint_is_over_the_content_not_the_bytes():
    a = parse_body(b'{"b": [1, 2], "a": {"y": "\\u5f15", "x": null}}')
    b = parse_body(json.dumps({"a": {"x": None, "y": "引"}, "b": [1, 2]}, ensure_ascii=False).encode())
    assert canonical_json(a) == canonical_json(b) == b'{"a":{"x":null,"y":"\\u5f15"},"b":[1,2]}'
    assert request_fingerprint("POST", "/p", a) == request_fingerprint("POST", "/p", b)
    assert request_fingerprint("POST", "/p", a) != request_fingerprint("POST", "/q", a)
    assert request_fingerprint("POST", "/p", {"n": 1}) != request_fingerprint("POST", "/p", {"n": 1.0})
    assert request_fingerprint("POST", "/p", {"n": 1}) != request_fingerprint("POST", "/p", {"n": True})
    # not JSON (no route with a body model lets it through) is still a fingerprint, never an error
    assert parse_body(b"\xff not json") != parse_body(b"other") and parse_body(b"") is None
    assert canonical_json(parse_body(b'"\\ud800"'))  # a lone surrogate encodes
