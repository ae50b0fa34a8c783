from __future__ import annotations

from typing import Any

import pytest

from tests.factories import World, stock


class Content:
    """Helpers to run content scenarios through the API."""

    def __init__(self, world: World) -> None:
        self.world, self.client = world, world.client
        self.rooms: dict[int, dict[str, Any]] = {}

    def creator(self, handle: str = "xiaoyin") -> Any:
        c = self.world.user("creator")
        r = self.client.put(
            "/api/v1/creators/me", json={"handle": f"{handle}{c.id}", "bio": "好物分享"}, headers=c.headers
        )
        assert r.status_code == 200, r.text
        return c

    def stocked_product(self, merchant: Any, price_fen: int = 10000, units: int = 100) -> dict[str, Any]:
        p = self.world.product(merchant, price_fen=price_fen)
        for sku in p["skus"]:
            stock(self.world, merchant, sku["id"], units)
        return p

    def plan(self, merchant: Any, product_id: int, rate_bps: int, creator_id: int | None = None) -> dict[str, Any]:
        body = {"product_id": product_id, "rate_bps": rate_bps, **({"creator_id": creator_id} if creator_id else {})}
        r = self.client.post("/api/v1/affiliate-plans", json=body, headers=merchant.headers)
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    def room(self, host: Any) -> dict[str, Any]:
        """The host's room (opened on first use)."""
        if host.id not in self.rooms:
            r = self.client.post("/api/v1/live/rooms", json={"title": "直播间"}, headers=host.headers)
            assert r.status_code == 201, r.text
            self.rooms[host.id] = r.json()
        return self.rooms[host.id]

    def live_session(self, host: Any, product_ids: list[int], start: bool = True) -> dict[str, Any]:
        room = self.room(host)
        r = self.client.post(
            f"/api/v1/live/rooms/{room['id']}/sessions",
            json={"title": "今晚好物", "product_ids": product_ids},
            headers=host.headers,
        )
        assert r.status_code == 201, r.text
        s = r.json()
        if start:
            r = self.client.post(f"/api/v1/live/sessions/{s['id']}/start", headers=host.headers)
            assert r.status_code == 200, r.text
            s = r.json()
        return s  # type: ignore[no-any-return]


@pytest.fixture
def content(world: World) -> Content:
    return Content(world)
