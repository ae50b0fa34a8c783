"""Numbers typed as text (URL paths, query strings, form fields, headers), parsed strictly.

Python's `int()` is too generous for input: it accepts any Unicode decimal digits ('١٢' is 12), spaces,
'_' separators and a '+', and raises on 5,000 digits (the int max-str-digits limit) or returns a number
no database column holds; `str.isdigit()` is true for '²', which `int()` refuses. Everything that turns
a caller's text into a number goes through here instead: ASCII digits only, a bounded length, a range.
JSON bodies need none of this: their ints are JSON numbers, checked by the (strict) input schemas.
"""

from __future__ import annotations

import re
from typing import Any

from yinli.core.ids import MAX_ID

# An int that fits a BIGINT has at most 19 digits; nothing longer is worth converting.
MAX_DIGITS = 19
INT64_MAX = 2**63 - 1
_DIGITS = re.compile(rf"-?[0-9]{{1,{MAX_DIGITS}}}", re.ASCII)


def parse_int(text: str, *, lo: int = -INT64_MAX, hi: int = INT64_MAX) -> int:
    """`text` as an int in `lo..hi`: an optional '-' and 1-19 ASCII digits, nothing else (no spaces).

    Raises ValueError otherwise, with a message fit to show."""
    if not isinstance(text, str) or not _DIGITS.fullmatch(text):
        raise ValueError("must be a whole number written with the digits 0-9")
    number = int(text)
    if not lo <= number <= hi:
        raise ValueError(f"must be between {lo} and {hi}")
    return number


def parse_id(text: str | None) -> int | None:
    """An id (1..2**53) written in `text`, or None if it is missing or not one: no row has such an id,
    so callers answer as they would for an id that matches nothing."""
    if text is None:
        return None
    try:
        return parse_int(text, lo=1, hi=MAX_ID)
    except ValueError:
        return None


def optional_int(text: str | None, *, lo: int = -INT64_MAX, hi: int = INT64_MAX) -> int | None:
    """Like `parse_int` but empty or missing text is None (an optional form field left blank)."""
    if text is None or text == "":
        return None
    return parse_int(text, lo=lo, hi=hi)


def is_id(text: str) -> bool:
    return parse_id(text) is not None


def digits_only(value: Any) -> Any:
    """A pydantic `BeforeValidator` for ints in query strings and paths: text must be plain ASCII digits
    (pydantic's own lax parsing accepts ' 5', '+5', '1_000' and '5.0'); non-text passes on unchanged."""
    if isinstance(value, str) and not _DIGITS.fullmatch(value):
        raise ValueError("must be a whole number written with the digits 0-9")
    return value


def number_or_text(text: str | None) -> int | str | None:
    """A form field a schema goes on to check: the int if `text` is one, else the text itself, which the
    schema refuses with its own message for the field (its ints are strict: text is never an int).
    Empty or missing is None."""
    if text is None or text == "":
        return None
    try:
        return parse_int(text)
    except ValueError:
        return text


_DECIMAL = re.compile(r"-?([0-9]{1,15})(?:\.([0-9]{1,15}))?", re.ASCII)


def split_decimal(text: str, *, places: int) -> tuple[int, int] | None:
    """A plain decimal typed as text ('39.9', '12'): (whole, fraction scaled to `places` digits), or
    None if it is not one — ASCII digits, at most `places` decimals, no exponent, sign, '_' or spaces
    (Decimal() would take '١٢', '1e3' and '1_000'). Negative numbers are not plain here."""
    match = _DECIMAL.fullmatch(text)
    if match is None or text.startswith("-"):
        return None
    whole, part = match.group(1), match.group(2) or ""
    if len(part) > places:
        return None
    return int(whole), int((part + "0" * places)[:places] or "0")
