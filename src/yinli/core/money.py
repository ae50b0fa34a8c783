"""Money: integer minor units (fen for CNY) with an ISO currency. No float ever touches it.

Rates are basis points (1 bp = 0.01%). Rounding of rate arithmetic is half-even on integers, and
`allocate` splits an amount into parts that always add back up to the whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# minor units per major unit, and display symbol
CURRENCIES: dict[str, tuple[int, str]] = {
    "CNY": (2, "¥"),
    "USD": (2, "$"),
    "EUR": (2, "€"),
    "HKD": (2, "HK$"),
    "JPY": (0, "¥"),
}


# Parsing refuses anything past 10^18 minor units: no real price is near it, and it fits a bigint.
PARSE_LIMIT = 10**18


class CurrencyMismatch(ValueError):
    pass


def _div_round_half_even(numerator: int, denominator: int) -> int:
    q, r = divmod(numerator, denominator)
    twice = 2 * r
    if twice > denominator or (twice == denominator and q % 2 == 1):
        q += 1
    return q


@dataclass(frozen=True, slots=True, order=False)
class Money:
    amount: int
    currency: str = "CNY"

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise TypeError(f"Money amount must be an int of minor units, got {type(self.amount).__name__}")
        if self.currency not in CURRENCIES:
            raise ValueError(f"unknown currency {self.currency!r}")

    # construction -------------------------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str = "CNY") -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str, currency: str = "CNY") -> Money:
        """Parse a decimal string in major units ('12.34') exactly; more decimals than the currency has
        is an error rather than a silent rounding."""
        exponent = CURRENCIES[currency][0]
        try:
            value = Decimal(text.strip())
        except (InvalidOperation, AttributeError):
            raise ValueError(f"not a decimal amount: {text!r}")
        if not value.is_finite():
            raise ValueError(f"not a finite amount: {text!r}")
        scaled = value.scaleb(exponent)
        if abs(scaled) > PARSE_LIMIT:
            raise ValueError(f"{text!r} is beyond any real amount")
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{text!r} has more than {exponent} decimals")
        return cls(int(scaled), currency)

    # arithmetic ---------------------------------------------------------------------------------
    def _check(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError("can only combine Money with Money")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} vs {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise TypeError("Money can only be multiplied by an int (use bps() for rates)")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._check(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._check(other)
        return self.amount >= other.amount

    def __bool__(self) -> bool:
        return self.amount != 0

    def bps(self, rate_bps: int) -> Money:
        """This amount times a rate in basis points, rounded half-even to a minor unit."""
        if isinstance(rate_bps, bool) or not isinstance(rate_bps, int):
            raise TypeError("rate must be an int of basis points")
        return Money(_div_round_half_even(self.amount * rate_bps, 10_000), self.currency)

    def allocate(self, weights: list[int]) -> list[Money]:
        """Split into parts proportional to non-negative int weights; parts sum exactly to self.

        Largest-remainder method: each part gets its floor share, the leftover minor units go to the
        parts with the largest remainders (earliest first on ties), so the split is deterministic.
        """
        if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
            raise ValueError("weights must be non-negative with a positive sum")
        total = sum(weights)
        sign = -1 if self.amount < 0 else 1
        amount = abs(self.amount)
        shares = [divmod(amount * w, total) for w in weights]
        parts = [q for q, _ in shares]
        leftover = amount - sum(parts)
        order = sorted(range(len(weights)), key=lambda i: (-shares[i][1], i))
        for i in order[:leftover]:
            parts[i] += 1
        return [Money(sign * p, self.currency) for p in parts]

    # presentation -------------------------------------------------------------------------------
    def format(self) -> str:
        """'¥12.34', '-¥0.05', '¥1,234.00'."""
        exponent, symbol = CURRENCIES[self.currency]
        sign = "-" if self.amount < 0 else ""
        major, minor = divmod(abs(self.amount), 10**exponent)
        text = f"{major:,}"
        if exponent:
            text += f".{minor:0{exponent}d}"
        return f"{sign}{symbol}{text}"

    def __str__(self) -> str:
        return self.format()
