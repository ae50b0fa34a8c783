"""Offers as the matcher sees them: parsing the shops' serialised records, words, model numbers, numbers
with units.

A record is `COL <attribute> VAL <text> COL <attribute> VAL <text> ...` (the Magellan/DeepMatcher format
of `../shared/data/product_matching/`). The shops name the same things differently — Walmart-Amazon has
title/category/brand/modelno/price, Amazon-Google title/manufacturer/price, Abt-Buy name/description/price —
so attributes are read through `ALIASES` into one `Offer`. A yinli product becomes an `Offer` directly.

Model numbers are the strongest evidence that two offers are one product (Abt-Buy and Walmart-Amazon
especially), and shops write them differently: `lm-af30u3`, `LMAF30U3`, `nn4-ts-blk` vs `nn4tsblk`,
`kdl 40v4100`. So a model number is kept *normalised* (lower case, letters and digits only), and
candidates are also formed by joining a short word with the number after it. A size or capacity
(`16gb`, `2.4ghz`, `1080p`, `24'`) is not a model number: it is kept apart as a number with a unit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property

from yinli.core.money import CURRENCIES, Money

# attribute name in a record -> Offer field
ALIASES: dict[str, str] = {
    "title": "title",
    "name": "title",
    "brand": "brand",
    "manufacturer": "brand",
    "modelno": "model",
    "model": "model",
    "model_number": "model",
    "description": "description",
    "category": "category",
    "price": "price",
}

_FIELD = re.compile(r"COL (\S+) VAL ?")
_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?|[\u3400-\u9fff]")  # CJK: one character a word
_RAW = re.compile(r"[a-z0-9]+(?:[-./][a-z0-9]+)*")  # a word keeping its inner separators
_UNIT = (
    r"(?:gb|mb|tb|kb|ghz|mhz|hz|mm|cm|m|in|inch|inches|ft|feet|lb|lbs|oz|w|watt|watts|v|volt|mah|ah|p|i|k|x|"
    r"pk|pack|ct|count|mp|megapixel|megapixels|ms|fps|bit|rpm|btu|qt|gal|l|ml|th|st|nd|rd|yr|year|years|"
    r"min|minute|hour|hr|pc|pcs|piece|sheets|pages|ppm|dpi|db|cu|cup|tier|way|d|g|kg|amp|a|ohm|user|users)"
)
_WITH_UNIT = re.compile(rf"^(\d+(?:\.\d+)?)({_UNIT})$")
_NOT_A_PREFIX = frozenset(
    ("for", "and", "the", "with", "of", "to", "in", "on", "by", "at", "up", "vs", "or", "per", "x")
)
_DIMENSION = re.compile(r"^(x\d+|\d+x\d*)$")  # "108 x 144" is a size
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_INCH = re.compile(r"(\d+(?:\.\d+)?)\s*(?:'|\"|''|-inch\b|\s?inch\b|\s?in\b)")
# records tokenised by the benchmark's authors write 24' as "24 '"; "16 gb" as two words
_SPACED_UNIT = re.compile(rf"\b(\d+(?:\.\d+)?)\s+({_UNIT})\b")


def normalise_text(text: str) -> str:
    """NFKC, lower case, one space between words."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def squash(text: str) -> str:
    """Letters and digits only: the form in which model numbers are compared (`LM-AF30U3` -> `lmaf30u3`)."""
    return "".join(ch for ch in normalise_text(text) if ch.isalnum())


def words(text: str) -> list[str]:
    """The words of a text: runs of ASCII letters/digits (`7.0` stays one), each CJK character alone."""
    return _WORD.findall(normalise_text(text))


def is_model_code(code: str, *, from_model_field: bool = False) -> bool:
    """A normalised string that looks like a model number: letters and digits, 4+ long (or 5+ digits),
    not a number with a unit. Anything a shop put in its model-number field counts when 3+ long."""
    if not code or not any(ch.isdigit() for ch in code):
        return False
    if from_model_field:
        return len(code) >= 3
    if _WITH_UNIT.match(code) or _NUMBER.match(code):
        return code.isdigit() and len(code) >= 5 and not (len(code) == 4 and code.startswith(("19", "20")))
    if _DIMENSION.match(code):
        return False
    return len(code) >= 4 and any(ch.isalpha() for ch in code)


def model_codes(text: str, model_field: str = "") -> frozenset[str]:
    """Normalised model-number candidates of an offer's text (and of its model-number field)."""
    codes: set[str] = set()
    explicit = squash(model_field)
    if is_model_code(explicit, from_model_field=True):
        codes.add(explicit)
    for raw in re.split(r"[\s/,;]+|(?<=[a-z0-9])-(?=[a-z]+$)", normalise_text(model_field)):
        code = squash(raw)
        if is_model_code(code, from_model_field=True):
            codes.add(code)
    raws = _RAW.findall(normalise_text(text))
    for i, raw in enumerate(raws):
        code = squash(raw)
        if is_model_code(code):
            codes.add(code)
        # "kdl 40v4100", "dvd 2930ci": a short word of letters joined with the code after it
        if i + 1 < len(raws) and raw.isalpha() and raw not in _NOT_A_PREFIX:
            after = squash(raws[i + 1])
            mixed = not after.isdigit()
            if (
                len(after) >= 3
                and after[0].isdigit()
                and (len(raw) <= 3 or (mixed and len(raw) <= 4))
                and not _WITH_UNIT.match(after)
                and is_model_code(code + after)
            ):
                codes.add(code + after)
    return frozenset(codes)


def versions(text: str) -> frozenset[str]:
    """Short codes that name a version or generation (`cs3`, `dp5`, `x3`, `v8`) and years (`2007`):
    what software titles (Amazon-Google) differ by."""
    found: set[str] = set()
    for word in words(text):
        short_code = 2 <= len(word) <= 3 and not word.isdigit() and any(ch.isdigit() for ch in word)
        year = len(word) == 4 and word.isdigit() and word.startswith(("19", "20"))
        if short_code or year:
            found.add(word)
    return frozenset(found)


def unit_numbers(text: str) -> frozenset[str]:
    """Numbers with a unit, normalised (`16 gb` and `16gb` -> `16gb`, `24 '` -> `24in`)."""
    norm = normalise_text(text)
    found = {f"{_trim(m.group(1))}in" for m in _INCH.finditer(norm)}
    for m in _SPACED_UNIT.finditer(norm):
        found.add(_trim(m.group(1)) + _canonical_unit(m.group(2)))
    for word in _RAW.findall(norm):
        unit = _WITH_UNIT.match(word)
        if unit:
            found.add(_trim(unit.group(1)) + _canonical_unit(unit.group(2)))
    return frozenset(found)


def plain_numbers(text: str) -> frozenset[str]:
    """Bare numbers of a text (`7.0` -> `7`, versions and sizes alike), without numbers that carry a unit."""
    return frozenset(_trim(w) for w in words(text) if _NUMBER.match(w))


def _trim(number: str) -> str:
    return number.rstrip("0").rstrip(".") if "." in number else number.lstrip("0") or "0"


_UNIT_CANON = {"inch": "in", "inches": "in", "feet": "ft", "lbs": "lb", "watt": "w", "watts": "w", "volt": "v"}
_UNIT_CANON |= {"megapixel": "mp", "megapixels": "mp", "count": "ct", "pcs": "pc", "piece": "pc", "years": "yr"}
_UNIT_CANON |= {"year": "yr", "minute": "min", "hour": "hr", "users": "user", "pack": "pk"}


def _canonical_unit(unit: str) -> str:
    return _UNIT_CANON.get(unit, unit)


@dataclass(frozen=True)
class Offer:
    """One shop's offer of a product (or a yinli product seen the same way). Only the title is required."""

    title: str
    brand: str = ""
    model: str = ""  # the shop's model-number field, when it has one
    description: str = ""
    category: str = ""
    price: Money | None = None  # None when unknown (the shops write 0.0 or nothing)
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @cached_property
    def title_words(self) -> tuple[str, ...]:
        return tuple(words(self.title))

    @cached_property
    def text(self) -> str:
        """Everything said about the product, normalised: title, brand, model number, description."""
        return normalise_text(" ".join(p for p in (self.title, self.brand, self.model, self.description) if p))

    @cached_property
    def squashed(self) -> str:
        return squash(self.text)

    @cached_property
    def codes(self) -> frozenset[str]:
        """Model numbers of the title and model field (descriptions name accessories' models too)."""
        return model_codes(self.title, self.model)

    @cached_property
    def brand_name(self) -> str:
        """The brand field, else the title's first word (Abt-Buy and Buy titles start with the brand)."""
        brand = normalise_text(self.brand)
        if brand:
            return brand
        return self.title_words[0] if self.title_words else ""


def parse_record(record: str, currency: str = "USD") -> Offer:
    """An `Offer` from one serialised record. Unknown attributes are kept in `extra`; a price of 0 or one
    that is not a number is unknown (None). The shared data's prices are in US dollars."""
    values: dict[str, str] = {}
    extra: dict[str, str] = {}
    parts = _FIELD.split(record)
    # parts: [before, name1, value1, name2, value2, ...]
    for name, value in zip(parts[1::2], parts[2::2], strict=True):
        key = ALIASES.get(name.lower())
        text = value.strip()
        if key is None:
            extra[name] = text
        elif text:
            values[key] = f"{values[key]} {text}" if key in values else text
    if "title" not in values and parts[0].strip():
        values["title"] = parts[0].strip()  # not a serialised record: the whole text is a title
    price_text = values.pop("price", "")
    return Offer(
        title=values.get("title", ""),
        brand=values.get("brand", ""),
        model=values.get("model", ""),
        description=values.get("description", ""),
        category=values.get("category", ""),
        price=parse_price(price_text, currency),
        extra=extra,
    )


def parse_price(text: str, currency: str = "USD") -> Money | None:
    """A shop's price text as Money (rounded half-even to the currency's minor unit); None when unknown."""
    try:
        value = Decimal(text.strip().lstrip("$").replace(",", ""))
    except InvalidOperation:
        return None
    if not value.is_finite() or value <= 0 or value > Decimal(10) ** 12:
        return None
    exponent = CURRENCIES[currency][0]
    return Money(int(value.scaleb(exponent).to_integral_value()), currency)
