"""Every table, imported in one place so Alembic and `create_all` see the whole schema."""

from yinli.accounts.models import AccessToken, PasswordReset, SignInThrottle, User
from yinli.catalog.models import Brand, Category, Product, Sku, SkuPriceHistory
from yinli.checkout.models import CartItem
from yinli.content.models import (
    AffiliateCommission,
    AffiliatePlan,
    CreatorProfile,
    Follow,
    LiveRoom,
    LiveSession,
    LiveSessionProduct,
    LiveVisit,
    ShortVideo,
    VideoProduct,
)
from yinli.core.db import Base
from yinli.core.idempotency import IdempotentResponse
from yinli.core.outbox import OutboxCursor, OutboxEvent
from yinli.inventory.models import Reservation, Stock, StockMovement
from yinli.merchants.models import PlatformPolicy, Store, StoreStaff
from yinli.orders.metrics import StoreMetrics
from yinli.orders.models import AfterSale, Complaint, Order, OrderLine, Review
from yinli.payments.models import JournalEntry, JournalTransaction, LedgerAccount, Payment, Refund
from yinli.search.models import LoggedSearch, SearchDocument, SearchInteraction, SearchProductStats, SearchTerm
from yinli.traffic.models import BoostChange, BoostMembership, Experiment, LaunchEnrolment, TrafficEvent, TrafficPlan

__all__ = [
    "AccessToken",
    "AffiliateCommission",
    "AffiliatePlan",
    "AfterSale",
    "Base",
    "BoostChange",
    "BoostMembership",
    "Brand",
    "CartItem",
    "Category",
    "Complaint",
    "CreatorProfile",
    "Experiment",
    "Follow",
    "IdempotentResponse",
    "JournalEntry",
    "JournalTransaction",
    "LaunchEnrolment",
    "LedgerAccount",
    "LiveRoom",
    "LiveSession",
    "LiveSessionProduct",
    "LiveVisit",
    "LoggedSearch",
    "Order",
    "OrderLine",
    "OutboxCursor",
    "OutboxEvent",
    "PasswordReset",
    "Payment",
    "PlatformPolicy",
    "Product",
    "Refund",
    "Reservation",
    "Review",
    "SearchDocument",
    "SearchInteraction",
    "SearchProductStats",
    "SearchTerm",
    "ShortVideo",
    "SignInThrottle",
    "Sku",
    "SkuPriceHistory",
    "Stock",
    "StockMovement",
    "Store",
    "StoreMetrics",
    "StoreStaff",
    "TrafficEvent",
    "TrafficPlan",
    "User",
    "VideoProduct",
]
