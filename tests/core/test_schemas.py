"""`Line` and `Paragraphs` are metadata in `Annotated[str, ...]` (so annotations stay types mypy can read);
they must validate exactly as the old `Line(80)` calls did: stripped, bounded, no control characters."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import ValidationError

from yinli.core.schemas import Input, Line, Paragraphs


class _Named(Input):
    name: Annotated[str, Line(5)]
    note: Annotated[str, Line(5, min_length=0)] = ""
    text: Annotated[str, Paragraphs(8)] = ""


def test_a_line_is_stripped_and_bounded():
    assert _Named(name="  abc  ").name == "abc"
    assert _Named(name="abc", note="").note == ""
    for bad in ["", "   ", "abcdef", "a\x00b", "a\nb"]:
        with pytest.raises(ValidationError):
            _Named(name=bad)


def test_paragraphs_keep_newlines_but_not_other_control_characters():
    assert _Named(name="a", text="x\ny\tz").text == "x\ny\tz"
    for bad in ["123456789", "a\x00"]:
        with pytest.raises(ValidationError):
            _Named(name="a", text=bad)


def test_the_json_schema_says_the_bounds():
    field = _Named.model_json_schema()["properties"]["name"]
    assert (field["type"], field["minLength"], field["maxLength"]) == ("string", 1, 5)


def test_a_brand_name_one_character_too_long_is_422(world, client):
    m = world.merchant()
    too_long = client.post("/api/v1/brands", json={"name": "x" * 81}, headers=m.headers)
    assert too_long.status_code == 422, too_long.text
    assert client.post("/api/v1/brands", json={"name": "x" * 80}, headers=m.headers).status_code == 201
