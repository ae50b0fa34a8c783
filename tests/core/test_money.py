from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yinli.core.money import CurrencyMismatch, Money

amounts = st.integers(min_value=-(10**15), max_value=10**15)
cny = st.builds(Money, amounts, st.just("CNY"))


@given(cny, cny, cny)
def test_addition_is_associative_and_commutative(a, b, c):
    assert (a + b) + c == a + (b + c)
    assert a + b == b + a


@given(cny, cny)
def test_subtraction_undoes_addition(a, b):
    assert (a + b) - b == a
    assert a - a == Money.zero()


@given(cny, st.integers(min_value=-1000, max_value=1000))
def test_multiplication_is_repeated_addition(a, n):
    assert a * n == Money(a.amount * n) == n * a


@given(
    amounts, st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20).filter(lambda w: sum(w) > 0)
)
def test_allocate_never_loses_or_creates_a_fen(amount, weights):
    parts = Money(amount).allocate(weights)
    assert sum(p.amount for p in parts) == amount
    assert len(parts) == len(weights)
    total = sum(weights)
    for part, w in zip(parts, weights, strict=True):
        exact = abs(amount) * w / total  # parts differ from the exact share by less than one fen
        assert abs(abs(part.amount) - exact) < 1
        if w == 0:
            assert part.amount == 0


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=10_000))
def test_bps_rounds_half_even_and_stays_within_the_amount(amount, rate):
    fee = Money(amount).bps(rate)
    exact_times_10k = amount * rate
    # the result is the nearest fen to the exact product
    assert abs(fee.amount * 10_000 - exact_times_10k) <= 5_000
    assert 0 <= fee.amount <= amount


def test_bps_ties_go_to_even():
    assert Money(50).bps(100).amount == 0  # 0.5 fen -> 0
    assert Money(150).bps(100).amount == 2  # 1.5 fen -> 2
    assert Money(250).bps(100).amount == 2  # 2.5 fen -> 2
    assert Money(-150).bps(100).amount == -2


@pytest.mark.parametrize(
    ("amount", "text"),
    [(1234, "¥12.34"), (5, "¥0.05"), (-5, "-¥0.05"), (123456789, "¥1,234,567.89"), (0, "¥0.00"), (100, "¥1.00")],
)
def test_format(amount, text):
    assert Money(amount).format() == text
    assert str(Money(amount)) == text


def test_format_other_currencies():
    assert Money(1999, "USD").format() == "$19.99"
    assert Money(500, "JPY").format() == "¥500"


@given(cny)
def test_parse_is_the_inverse_of_the_decimal_form(m):
    sign = "-" if m.amount < 0 else ""
    major, minor = divmod(abs(m.amount), 100)
    assert Money.parse(f"{sign}{major}.{minor:02d}") == m


@pytest.mark.parametrize("text", ["1.234", "abc", "", "NaN", "Infinity", "1e400000"])
def test_parse_refuses_what_is_not_an_exact_amount(text):
    with pytest.raises(ValueError):
        Money.parse(text)


def test_no_floats_and_no_mixing_currencies():
    with pytest.raises(TypeError):
        Money(12.34)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(True)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(100) * 1.5  # type: ignore[operator]
    with pytest.raises(CurrencyMismatch):
        Money(100, "CNY") + Money(100, "USD")
    with pytest.raises(CurrencyMismatch):
        _ = Money(100, "CNY") < Money(100, "USD")
    with pytest.raises(ValueError):
        Money(1, "XXX")


def test_comparisons():
    assert Money(1) < Money(2) <= Money(2) < Money(3)
    assert Money(3) > Money(2) >= Money(2)
    assert not Money(0)
    assert Money(1)
