"""The demo marketplace builds through the real services and leaves a consistent world."""

from datetime import UTC, datetime

from sqlalchemy import func, select

from yinli.catalog.models import Product
from yinli.orders.models import Order
from yinli.payments import ledger
from yinli.sample import STORES, load_sample


def test_sample_marketplace(database, settings):
    with database.session() as session:
        result = load_sample(session, settings, datetime(2026, 11, 24, tzinfo=UTC))
    with database.session() as session:
        assert result.stores == len(STORES)
        assert (
            session.scalar(select(func.count()).select_from(Product).where(Product.status == "listed"))
            == result.products
        )
        statuses = sorted(session.scalars(select(Order.status)))
        assert len(statuses) == result.orders == 4 and set(statuses) <= {"paid", "shipped"}
        assert ledger.unbalanced_transactions(session) == []
        assert sum(ledger.balances(session).values()) == 0
