"""A small, seeded sample marketplace for `yinli demo` and tests: operator, merchants, stores, products.

Everything is created through the real services (nothing written to tables directly), so the sample is
also a smoke test of the whole foundation. Later the simulator grows this into a living marketplace.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from yinli.accounts import service as accounts
from yinli.catalog import service as catalog
from yinli.catalog.models import Category
from yinli.checkout import service as checkout
from yinli.core.auth import Actor, Role
from yinli.core.clock import SimulatedClock
from yinli.core.settings import Settings
from yinli.flows import charge
from yinli.inventory import service as inventory
from yinli.merchants import service as merchants
from yinli.orders import service as order_service
from yinli.orders.models import Surface
from yinli.payments import service as payments
from yinli.payments.gateway import SimulatedGateway

DEMO_PASSWORD = "yinli-demo-2026"

# store name, owner email, months in business (0 = a new merchant), [(leaf path, title, base price fen, variants)]
STORES: list[tuple[str, str, int, list[tuple[str, str, int, dict[str, list[str]]]]]] = [
    (
        "潮鞋研究所",
        "shoes@demo.yinli",
        6,
        [
            ("服饰鞋帽 > 男鞋 > 休闲鞋", "男士透气休闲板鞋 百搭小白鞋", 15900, {"尺码": ["40", "41", "42", "43"]}),
            ("服饰鞋帽 > 女鞋 > 单鞋", "女士软底单鞋 通勤不累脚", 12900, {"尺码": ["36", "37", "38"]}),
            ("服饰鞋帽 > 女鞋 > 凉鞋", "夏季平底凉鞋 防滑耐磨", 8900, {"尺码": ["36", "37", "38", "39"]}),
        ],
    ),
    (
        "数码小铺",
        "digital@demo.yinli",
        12,
        [
            ("手机数码 > 手机配件 > 手机保护套", "iPhone15 手机壳 磁吸防摔透明", 3900, {"颜色": ["透明", "黑色"]}),
            ("手机数码 > 手机配件 > 手机贴膜", "钢化膜 高清全屏覆盖 2片装", 1990, {}),
            ("电脑/办公 > 电脑配件 > 笔记本配件", "笔记本支架 铝合金可升降散热", 6900, {"颜色": ["银色", "深空灰"]}),
        ],
    ),
    (
        "暖暖家纺",
        "home@demo.yinli",
        8,
        [
            ("家居家装 > 家纺 > 床品套件", "纯棉四件套 1.8m床 简约条纹", 29900, {"规格": ["1.5m床", "1.8m床"]}),
            ("家居家装 > 家纺 > 被子", "新疆棉花被 冬被加厚", 25900, {"重量": ["4斤", "6斤"]}),
        ],
    ),
    (
        "车品优选",
        "car@demo.yinli",
        3,
        [
            ("汽配用品 > 汽车装饰 > 脚垫", "全包围汽车脚垫 专车专用", 39900, {}),
            ("汽配用品 > 汽车装饰 > 座垫", "四季通用汽车坐垫 冰丝透气", 19900, {"颜色": ["米色", "黑色"]}),
            ("汽配用品 > 维修保养 > 雨刷", "无骨雨刮器 静音一对装", 4900, {"尺寸": ["22+16", "24+18"]}),
        ],
    ),
    (
        "山野户外",
        "outdoor@demo.yinli",
        0,
        [
            ("运动户外 > 户外装备 > 便携桌椅床", "户外折叠椅 便携月亮椅", 8900, {"颜色": ["军绿", "卡其"]}),
            ("运动户外 > 户外鞋服 > 冲锋衣裤", "三合一冲锋衣 防风防水", 49900, {"尺码": ["M", "L", "XL"]}),
        ],
    ),
    (
        "礼物盒子",
        "gifts@demo.yinli",
        0,
        [
            ("钟表礼品 > 礼品 > 创意礼品", "创意星空投影灯 生日礼物", 6900, {}),
            ("钟表礼品 > 礼品 > 工艺礼品", "手工木雕摆件 招财猫", 12800, {}),
        ],
    ),
]


SAMPLE_ADDRESS = {"name": "小美", "phone": "13800000000", "region": "浙江省 杭州市 西湖区", "line": "文三路 1 号"}


@dataclass
class SampleResult:
    operator_email: str
    stores: int
    products: int
    orders: int


def _leaf(session: Session, path: str) -> Category:
    leaf = session.scalar(select(Category).where(Category.path == path))
    if leaf is None:
        raise LookupError(f"category {path!r} is not loaded; run `yinli catalog load-categories` first")
    return leaf


def load_sample(session: Session, settings: Settings, now: datetime, seed: int = 7) -> SampleResult:
    """Create the sample marketplace as of `now` (stores open months earlier). Caller commits."""
    rng = np.random.default_rng(seed)
    start = now - timedelta(days=30 * max(months for _, _, months, _ in STORES) + 1)
    clock = SimulatedClock(start)
    operator = accounts.do_sign_up(
        session,
        clock,
        email="ops@demo.yinli",
        password=DEMO_PASSWORD,
        display_name="运营小引",
        role=Role.OPERATOR,
        allow_operator=True,
    )
    op_actor = Actor(operator.id, Role.OPERATOR)
    buyer = accounts.do_sign_up(
        session,
        clock,
        email="shopper@demo.yinli",
        password=DEMO_PASSWORD,
        display_name="小美",
        role=Role.SHOPPER,
        birth_year=1998,
    )
    shopper = Actor(buyer.id, Role.SHOPPER)
    products = 0
    for name, email, months, items in sorted(STORES, key=lambda s: -s[2]):
        opened = now - timedelta(days=30 * months + 1) if months else now - timedelta(days=int(rng.integers(1, 6)))
        clock.set(max(opened, clock.now()))
        owner = accounts.do_sign_up(
            session, clock, email=email, password=DEMO_PASSWORD, display_name=f"{name}店长", role=Role.MERCHANT
        )
        store = merchants.do_apply_for_store(
            session,
            clock,
            settings,
            Actor(owner.id, Role.MERCHANT),
            name=name,
            description=f"{name}：用心选品，售后无忧。",
        )
        merchants.do_review_store(session, clock, op_actor, store.id, approve=True, note="资料齐全")
        staff = Actor(owner.id, Role.MERCHANT, store.id)
        for path, title, base, variants in items:
            key, values = next(iter(variants.items())) if variants else (None, [""])
            skus = []
            for i, value in enumerate(values):
                price = base + 1000 * i
                skus.append(
                    {
                        "code": f"S{store.id}-{products + 1}-{i + 1}",
                        "attributes": {key: value} if key else {},
                        "price_fen": price,
                        "list_price_fen": price * 13 // 10 // 100 * 100,
                    }
                )
            product = catalog.do_create_product(
                session,
                clock,
                staff,
                store_id=store.id,
                category_id=_leaf(session, path).id,
                title=title,
                skus=skus,
                description=f"{title}。正品保障，7天无理由退货。",
            )
            catalog.do_list_product(session, clock, staff, product.id)
            for sku in catalog.skus_of(session, product.id):
                inventory.do_set_on_hand(session, sku.id, int(rng.integers(20, 200)), clock.now(), owner.id)
            products += 1
            if months:  # older stores have changed prices since: give the history something to show
                for sku in catalog.skus_of(session, product.id):
                    clock.set(max(clock.now(), now - timedelta(days=int(rng.integers(2, 20)))))
                    discount = int(rng.choice([90, 95, 100]))
                    catalog.do_update_sku(session, clock, staff, sku.id, price_fen=sku.price_fen * discount // 100)
    clock.set(max(clock.now(), now - timedelta(days=3)))
    orders = _sample_orders(session, clock, settings, shopper, rng)
    return SampleResult("ops@demo.yinli", len(STORES), products, orders)


def _sample_orders(
    session: Session, clock: SimulatedClock, settings: Settings, shopper: Actor, rng: np.random.Generator
) -> int:
    """The demo shopper's history: a few orders, paid through the simulated gateway, some shipped."""
    from yinli.catalog.models import Product, Sku
    from yinli.merchants.models import StoreStaff

    gateway = SimulatedGateway(seed=int(rng.integers(1 << 30)))
    skus = list(session.scalars(select(Sku).order_by(Sku.id)))
    picks = rng.choice(len(skus), size=min(4, len(skus)), replace=False)
    placed = 0
    for i, pick in enumerate(sorted(picks)):
        sku = skus[int(pick)]
        surface = [Surface.SEARCH, Surface.MALL, Surface.FEED, Surface.STORE_PAGE][i % 4]
        payment, orders = checkout.do_checkout(
            session, clock, settings, shopper, lines=[checkout.LineRequest(sku.id, 1, surface)], address=SAMPLE_ADDRESS
        )
        payments.do_claim_payment(session, clock, gateway, shopper, payment.id, "card")
        result = gateway.charge(payment.gateway_key, payment.amount_fen, payment.currency, "card")
        charge.charge_applied(session, clock, gateway, payment.id, result)
        placed += 1
        if i % 2 == 0:  # half of them are on their way
            product = session.get(Product, sku.product_id)
            assert product is not None
            owner = session.scalar(select(StoreStaff.user_id).where(StoreStaff.store_id == product.store_id))
            staff = Actor(int(owner), Role.MERCHANT, product.store_id)  # type: ignore[arg-type]
            clock.advance(timedelta(hours=5))
            order_service.do_ship(session, clock, staff, orders[0].id, "顺丰速运", f"SF{1000000 + orders[0].id}")
    return placed
