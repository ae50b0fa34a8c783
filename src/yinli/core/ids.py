"""Opaque cursors for keyset pagination."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from yinli.core.errors import InvalidInput

MAX_ID = 2**53  # ids fit in a JSON number exactly and in a PostgreSQL bigint


def encode_cursor(values: dict[str, Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """Decode a cursor made by `encode_cursor` with exactly `keys`, each an int in range."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidInput("cursor is not one this API issued", field="cursor")
    if not isinstance(values, dict) or set(values) != set(keys):
        raise InvalidInput("cursor is not one this API issued", field="cursor")
    for key in keys:
        v = values[key]
        if isinstance(v, bool) or not isinstance(v, int) or not (-MAX_ID <= v <= MAX_ID):
            raise InvalidInput("cursor is not one this API issued", field="cursor")
    return values
