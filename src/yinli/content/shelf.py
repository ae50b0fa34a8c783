"""Shelf surfaces: the mall tab (categories and curated sections) and store pages (a store's sections).

Sections are product cards of listed products: new arrivals (newest listed) and best sellers (most
units sold). Purchases made from them carry surface `mall` or `store_page`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from yinli.catalog.models import Product, ProductStatus
from yinli.merchants.models import Store, StoreStatus

SECTION_SIZE = 12


def _listed(store_id: int | None):  # type: ignore[no-untyped-def]
    query = select(Product).where(Product.status == ProductStatus.LISTED)
    if store_id is not None:
        return query.where(Product.store_id == store_id)
    return query.where(Product.store_id.in_(select(Store.id).where(Store.status == StoreStatus.ACTIVE)))


def new_arrivals(session: Session, store_id: int | None = None, limit: int = SECTION_SIZE) -> list[Product]:
    return list(session.scalars(_listed(store_id).order_by(Product.listed_at.desc(), Product.id.desc()).limit(limit)))


def best_sellers(session: Session, store_id: int | None = None, limit: int = SECTION_SIZE) -> list[Product]:
    return list(session.scalars(_listed(store_id).order_by(Product.sales_count.desc(), Product.id).limit(limit)))
