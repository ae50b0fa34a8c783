"""traffic.explain: an item's factors reproduce its score under the shopper's policy; a store's report adds
up and gives reasons that follow from its numbers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.traffic.conftest import Market
from yinli.traffic import explain, ranking
from yinli.traffic.candidates import AFFINITY, EXPLORE
from yinli.traffic.feed import Placement
from yinli.traffic.ranking import GMV_ONLY, POLICIES, USER_FIRST

unit = st.floats(0.0, 1.0, allow_nan=False)


def placed(policy: str, values: dict[str, float], slot: str = "organic") -> Placement:
    """One candidate scored by ranking.combine (no exploration), as the feed would place it."""
    one = {k: np.array([v]) for k, v in values.items()}
    score, ev, comps = ranking.combine(
        policy,
        pctr=one["pctr"],
        pcvr=one["pcvr"],
        price_fen=one["price"],
        watch_per_click=np.array([30.0]),
        is_content=np.array([False]),
        experience=one["experience"],
        relevance=one["relevance"],
        noise_scores=one["noise"],
        ev_ref=400.0,
        ctr_ref=0.05,
        watch_ref=1.0,
        rng=None,
    )
    return Placement(
        item=0,
        position=0,
        slot=slot,
        sources=AFFINITY | EXPLORE,
        score=float(score[0]),
        pctr=values["pctr"],
        pcvr=values["pcvr"],
        ev_fen=float(ev[0]),
        components={k: round(float(v[0]), 4) for k, v in comps.items()},
        features={},
    )


@settings(deadline=None, max_examples=60)
@given(
    policy=st.sampled_from(POLICIES),
    pctr=st.floats(0.0, 0.5),
    pcvr=st.floats(0.0, 0.5),
    price=st.floats(0.0, 1e6),
    experience=unit,
    relevance=unit,
    noise=unit,
)
def test_the_contributions_add_up_to_the_score(
    policy: str, pctr: float, pcvr: float, price: float, experience: float, relevance: float, noise: float
) -> None:
    values = {"pctr": pctr, "pcvr": pcvr, "price": price, "experience": experience}
    p = placed(policy, {**values, "relevance": relevance, "noise": noise})
    out = explain.item(p, policy, None)
    parts = {c["name"]: c for c in out["components"]}
    assert set(parts) == set(explain.COMPONENTS)
    for c in parts.values():
        assert c["contribution"] == pytest.approx(c["weight"] * c["value"], abs=1e-4)
    # five rounded parts: at most 5 × 0.5e-4 off, plus the components' own rounding
    assert sum(c["contribution"] for c in parts.values()) == pytest.approx(out["score"], abs=6e-4)
    if policy == GMV_ONLY:
        assert {n for n, c in parts.items() if c["weight"]} == {"value"}
    else:
        assert parts["noise"]["weight"] < 0 and parts["noise"]["contribution"] <= 0
    assert out["expected_gmv_fen"] == pytest.approx(pctr * pcvr * price, abs=0.01)


def test_an_item_says_who_placed_it_why_it_was_considered_and_what_predicted_it() -> None:
    values = {"pctr": 0.05, "pcvr": 0.03, "price": 3900.0, "experience": 0.8, "relevance": 0.5, "noise": 0.0}
    organic = explain.item(placed(USER_FIRST, values), USER_FIRST, None)
    assert organic["placed_by"] == "ranking" and organic["predicted_by"] == "heuristic"
    assert organic["sources"] == ["category_affinity", "exploration"]
    assert organic["policy"] == USER_FIRST and organic["plan"] is None
    boosted = explain.item(placed(USER_FIRST, values, slot="boost"), USER_FIRST, "gbdt-7")
    assert boosted["placed_by"] == "boost plan" and boosted["predicted_by"] == "gbdt-7"
    assert explain.item(placed(USER_FIRST, values, slot="launch"), USER_FIRST, None)["placed_by"] == "launch plan"


def test_served_items_explain_their_scores_up_to_exploration(market: Market) -> None:
    for leaf in ("phone", "pet", "game"):
        market.store(3, leaf=leaf)
    shopper = market.world.shopper()
    market.refresh()
    page = market.feed(shopper, limit=6, explain="true")
    organic = [i for i in page["items"] if i["slot"] == "organic"]  # plan slots are placed, not scored
    assert organic
    for item in organic:
        e = item["explain"]
        total = sum(c["contribution"] for c in e["components"])
        # the served score adds seeded Gumbel noise of scale EXPLORATION; 10× that is never reached in practice
        assert abs(e["score"] - total) < 10 * ranking.EXPLORATION, e
        assert e["pctr"] > 0 and e["sources"]
    scores = [i["explain"]["score"] for i in organic]
    assert scores[0] == max(scores)  # the best candidate leads the page


def test_reasons_follow_the_store_numbers() -> None:
    quiet = explain._reasons({}, {}, 0, {"organic": 0, "launch": 0, "boost": 0})
    assert len(quiet) == 1 and "no organic impressions" in quiet[0]
    launched = explain._reasons({}, {}, 0, {"organic": 0, "launch": 12, "boost": 3})
    assert launched[0].startswith("12 impressions came from the launch plan") and "boost" in launched[1]
    platform = {"experience": 0.8, "noise": 0.05, "affinity": 0.3, "item_ctr": 0.05}
    noisy = {"experience": 0.6, "noise": 0.4, "affinity": 0.01, "item_ctr": 0.02}
    text = " | ".join(explain._reasons(noisy, platform, 40, {"organic": 40}))
    assert "40 organic impressions" in text and "marketing-noise penalty 0.40" in text
    assert "experience score 0.60 vs platform 0.80" in text and "without a known interest" in text
    assert "clicked more than average" not in text
    good = {"experience": 0.9, "noise": 0.0, "affinity": 0.5, "item_ctr": 0.09}
    text = " | ".join(explain._reasons(good, platform, 40, {"organic": 40}))
    assert "above the platform's" in text and "clicked more than average" in text
    assert "penalty" not in text and "without a known interest" not in text
