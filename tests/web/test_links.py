"""No dead links: crawl every same-site link each kind of user can see, from the pages they start on."""

from __future__ import annotations

import re
from collections import deque

from tests.factories import buy, pay

HREF = re.compile(r'href="(/[^"#]*)')
SKIP = ("/static/", "/docs", "/openapi.json", "/api/")


def crawl(browser, start: list[str], limit: int = 120) -> dict[str, int]:  # type: ignore[no-untyped-def]
    seen: dict[str, int] = {}
    queue = deque(start)
    while queue and len(seen) < limit:
        url = queue.popleft().replace("&amp;", "&")
        if url in seen or url.startswith(SKIP):
            continue
        r = browser.get(url)
        seen[url] = r.status_code
        if r.status_code == 200 and r.headers["content-type"].startswith("text/html"):
            queue.extend(u for u in HREF.findall(r.text) if u not in seen)
    return seen


def test_no_dead_links(anon, browser_factory, world, shop):
    sku = shop["products"][0]["skus"][0]
    order = pay(world, shop["shopper"], buy(world, shop["shopper"], [{"sku_id": sku["id"], "quantity": 1}])["id"])
    assert order["status"] == "succeeded"
    world.merchant(approve=False, name="待审小店")
    visits = {
        "anonymous": (anon, ["/", "/mall", "/search?q=鞋", "/signin", "/signup"]),
        "shopper": (browser_factory(shop["shopper"].email), ["/", "/orders", "/account", "/cart", "/after-sales"]),
        "merchant": (browser_factory(shop["merchant"].email), ["/merchant", "/merchant/products", "/merchant/orders"]),
        "operator": (browser_factory(world.operator.email), ["/ops", "/ops/stores", "/ops/policy"]),
    }
    for who, (browser, start) in visits.items():
        seen = crawl(browser, start)
        assert len(seen) > 5, who
        dead = {url: status for url, status in seen.items() if status != 200}
        assert dead == {}, who
