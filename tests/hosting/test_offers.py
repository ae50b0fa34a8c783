"""Reading the shops' records into offers: fields by alias, prices, model numbers, numbers with units."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.hosting.samples import ABT, ABT_DISHWASHER, AMAZON, BUY, GOOGLE, WALMART
from yinli.core.money import Money
from yinli.hosting.offers import model_codes, parse_price, parse_record, squash, unit_numbers


def test_abt_buy_records_have_name_description_and_price() -> None:
    abt = parse_record(ABT)
    assert abt.title.startswith("panasonic lm-af30u3 three pack")
    assert abt.description.startswith("panasonic lm-af30u3") and abt.description.endswith("1.4 gb data capacity")
    assert abt.price == Money(899, "USD")
    assert abt.brand == "" and abt.brand_name == "panasonic"  # no brand column: the title's first word


def test_amazon_google_manufacturer_is_the_brand_and_empty_fields_are_absent() -> None:
    amazon, google = parse_record(AMAZON), parse_record(GOOGLE)
    assert (amazon.title, amazon.brand, amazon.price) == (
        "chessmaster 9000 ( mac )",
        "feral interactive",
        Money(3999, "USD"),
    )
    assert google.brand == "" and google.brand_name == "chessmaster"  # no manufacturer: the first word
    assert google.price == Money(3899, "USD")


def test_walmart_amazon_records_have_brand_model_and_category() -> None:
    walmart = parse_record(WALMART)
    assert walmart.brand == "xerox"
    assert walmart.model == "108r00645"
    assert walmart.category == "printers"
    assert "108r00645" in walmart.codes


def test_unknown_prices_are_none() -> None:
    assert parse_record("COL title VAL a thing COL price VAL 0.0 ").price is None
    assert parse_record("COL title VAL a thing COL price VAL  ").price is None
    assert parse_price("n/a") is None
    assert parse_price("$1,299.995") == Money(130000, "USD")  # rounded half-even to cents


def test_a_plain_text_is_a_title_and_unknown_columns_are_kept() -> None:
    assert parse_record("Sony RM-VL600 learning remote").title == "Sony RM-VL600 learning remote"
    offer = parse_record("COL title VAL x COL colour VAL red ")
    assert offer.extra == {"colour": "red"}


def test_model_numbers_are_normalised_whatever_the_separators() -> None:
    assert squash("LM-AF30U3") == "lmaf30u3"
    assert {"lmaf30u3"} <= parse_record(ABT).codes
    assert parse_record(BUY).codes == {"lmaf30u3"}
    assert model_codes("4g nano toughskin black nn4-ts-blk") == {"nn4tsblk"}
    assert "kdl40v4100" in model_codes("sony bravia kdl 40v4100 lcd tv")  # a split code is joined
    assert model_codes("", "R85WH1-Wide") >= {"r85wh1wide", "r85wh1"}  # the model field, and its part


def test_sizes_and_years_are_not_model_numbers() -> None:
    dishwasher = parse_record(ABT_DISHWASHER)
    assert dishwasher.codes == {"lds4821ww", "lds4821wh"}
    assert model_codes("apple ipod 16gb 2.4ghz 1080p hdmi 108 x 144 screen 2008") == frozenset()


def test_numbers_with_units_are_normalised() -> None:
    assert unit_numbers("lg 24 ' dishwasher") == {"24in"}
    assert unit_numbers("16 gb and 16gb, 2.0 megapixels, 500 GB") == {"16gb", "2mp", "500gb"}


@given(st.text(max_size=200))
def test_any_text_parses_into_lowercase_alphanumeric_codes(text: str) -> None:
    offer = parse_record(text)
    for code in offer.codes:
        assert code == squash(code) and code
    assert isinstance(offer.title, str)


@given(
    st.lists(st.sampled_from(["title", "name", "brand", "modelno", "price", "description", "x"]), max_size=6),
    st.text(max_size=40),
)
def test_any_serialised_record_parses(columns: list[str], value: str) -> None:
    record = " ".join(f"COL {c} VAL {value}" for c in columns)
    offer = parse_record(record)
    assert offer.price is None or offer.price.amount > 0
