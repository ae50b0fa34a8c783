"""Pydantic building blocks shared by every domain's `schemas.py`.

Input models forbid unknown fields and are strict: a JSON `false` is not 0, `0` is not `false`, "5" is
not 5 and 5.0 is not an int (lax parsing would turn `{"on_hand": false}` into an empty shelf). Enums and
times, which JSON can only write as text, say so with `Choice` and `Moment`. Text fields refuse control
characters (PostgreSQL cannot store NUL, and nobody means to type one); amounts are bounded ints of minor
units.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any, Generic, TypeVar

from annotated_types import GroupedMetadata
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
)

from yinli.core.money import Money

MAX_AMOUNT = 10_000_000_000  # ¥100,000,000.00: no single price or quantity-priced line is larger


def _no_control_chars(value: str, allow_newlines: bool = False) -> str:
    for ch in value:
        if allow_newlines and ch in "\n\t":
            continue
        if unicodedata.category(ch) in ("Cc", "Cs"):
            raise ValueError("must not contain control characters")
    return value


def _line(value: str) -> str:
    return _no_control_chars(value)


def _paragraphs(value: str) -> str:
    return _no_control_chars(value, allow_newlines=True)


@dataclass(frozen=True, slots=True)
class Line(GroupedMetadata):
    """A single line of text, stripped, `min_length..max_length` characters: `Annotated[str, Line(80)]`.

    Metadata, not a type, so annotations stay types a type checker can read; pydantic expands the group
    into exactly the constraints a hand-written `Annotated[str, StringConstraints(...), AfterValidator(...)]`
    would have (same validation, same JSON schema)."""

    max_length: int
    min_length: int = 1

    def __iter__(self) -> Iterator[object]:
        yield from StringConstraints(strip_whitespace=True, min_length=self.min_length, max_length=self.max_length)
        yield AfterValidator(_line)


@dataclass(frozen=True, slots=True)
class Paragraphs(GroupedMetadata):
    """Text that may span lines (newlines and tabs allowed), at most `max_length` characters:
    `Annotated[str, Paragraphs(2000)]`."""

    max_length: int

    def __iter__(self) -> Iterator[object]:
        yield from StringConstraints(max_length=self.max_length)
        yield AfterValidator(_paragraphs)


Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=1000, pattern=r"^https?://[^\s]+$"),
    AfterValidator(_line),
]
# Strict: a JSON integer, never `true`, `39.0` or "3900" (lax parsing would turn `true` into 1 fen).
Amount = Annotated[int, Strict(), Field(ge=0, le=MAX_AMOUNT, description="Minor units (fen).")]
PositiveAmount = Annotated[int, Strict(), Field(ge=1, le=MAX_AMOUNT, description="Minor units (fen).")]
IdInt = Annotated[int, Strict(), Field(ge=1, le=2**53)]

EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)


def _plausible_time(value: datetime) -> datetime:
    # Year 1 in a +01:00 zone is year 0 in UTC, which no database stores: refuse it as bad input.
    if not EARLIEST <= value <= LATEST:
        raise ValueError("a time between 2000-01-01 and 2200-01-01 (UTC)")
    return value


QueryTime = Annotated[AwareDatetime, AfterValidator(_plausible_time)]  # a time in a query: with its zone


E = TypeVar("E", bound=Enum)

# An enum field of an (otherwise strict) input model, `Choice[Surface]`: its value as text, as JSON
# writes it (strict mode would want the Python enum member itself).
Choice = Annotated[E, Strict(False)]


def _text_not_number(value: Any) -> Any:
    # Lax datetimes take numbers as Unix timestamps: `false` or 0 would be 1970. Only text (or, from
    # Python callers, a datetime) is a time.
    if isinstance(value, bool | int | float):
        raise ValueError("must be a date and time written as text, e.g. 2026-11-24T20:00:00+08:00")
    return value


Moment = Annotated[datetime, Strict(False), BeforeValidator(_text_not_number)]  # ISO 8601 text in a body
AwareMoment = Annotated[AwareDatetime, Strict(False), BeforeValidator(_text_not_number)]  # with its zone


class Input(BaseModel):
    """Base for request bodies: unknown fields are an error, not silently dropped; types are strict
    (see the module's docstring) — every request model inherits this, tests/api/test_strict_input.py
    walks them all."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class MoneyOut(Output):
    amount: int = Field(description="Minor units (fen).")
    currency: str
    formatted: str

    @classmethod
    def of(cls, money: Money) -> MoneyOut:
        return cls(amount=money.amount, currency=money.currency, formatted=money.format())

    @classmethod
    def fen(cls, amount: int, currency: str = "CNY") -> MoneyOut:
        return cls.of(Money(amount, currency))


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null at the end.")
