"""/api/v1/guarantees: pay-later credit, price-protection claims, return-shipping cover."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["guarantees"])
