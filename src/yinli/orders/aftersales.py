"""After-sales: refund only (before shipping) and return-and-refund (within the no-reason window).

    requested ──approve──▶ refunded                      (refund only)
    requested ──approve──▶ awaiting_return ──shopper ships──▶ return_shipped ──merchant receives──▶ refunded
    requested ──reject (with a reason)──▶ rejected;  requested / awaiting_return ──shopper──▶ withdrawn

Small requests from shoppers in good standing are approved at once (settings: auto_refund_max_fen,
auto_refund_max_recent). Refunded units go back to stock; an order whose every line is refunded
becomes `refunded`. The money and the creators' commission are not this module's: a refund decided here
is returned as a `RefundDue`, which `flows.refund` pays (payments.do_refund, never more than was paid)
and claws the commission back on (content.affiliate), in the same transaction. Shipping comes
back with the refund that covers the last unrefunded units (`shipping_refund`), so a fully refunded
order is refunded exactly what was paid, in one part or many.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from yinli.accounts.service import lock_user
from yinli.core.auth import Actor, require_actor, require_store_manager
from yinli.core.clock import Clock
from yinli.core.errors import Conflict, DomainError, Forbidden, InvalidInput, InvalidTransition, NotFound
from yinli.core.outbox import emit
from yinli.core.settings import Settings
from yinli.inventory import service as inventory
from yinli.orders import service as orders
from yinli.orders.models import AfterSale, AfterSaleKind, AfterSaleStatus, Order, OrderLine, OrderStatus


def get_after_sale(session: Session, actor: Actor | None, after_sale_id: int) -> AfterSale:
    actor = require_actor(actor)
    case = session.get(AfterSale, after_sale_id)
    if case is None or not (actor.user_id == case.shopper_id or actor.manages_store(case.store_id)):
        raise NotFound(f"no after-sale {after_sale_id}", field="after_sale_id")
    return case


def list_after_sales(
    session: Session, actor: Actor | None, *, status: AfterSaleStatus | None, before_id: int | None, limit: int
) -> list[AfterSale]:
    actor = require_actor(actor)
    query = select(AfterSale).order_by(AfterSale.id.desc()).limit(limit)
    if not actor.is_operator:
        if actor.store_id is not None:
            query = query.where(AfterSale.store_id == actor.store_id)
        else:
            query = query.where(AfterSale.shopper_id == actor.user_id)
    if status is not None:
        query = query.where(AfterSale.status == status.value)
    if before_id is not None:
        query = query.where(AfterSale.id < before_id)
    return list(session.scalars(query))


def return_window_closes(order: Order, settings: Settings) -> datetime | None:
    """When the no-reason return window of a delivered order closes (None before delivery)."""
    return order.delivered_at + timedelta(days=settings.return_window_days) if order.delivered_at else None


def after_sales_of_order(session: Session, actor: Actor | None, order_id: int) -> list[AfterSale]:
    """Every after-sale of an order the actor may see (its shopper, the store's staff, operators), newest first."""
    orders.get_order(session, actor, order_id)
    return list(session.scalars(select(AfterSale).where(AfterSale.order_id == order_id).order_by(AfterSale.id.desc())))


def _in_good_standing(session: Session, clock: Clock, settings: Settings, shopper_id: int) -> bool:
    """Fewer than `auto_refund_max_recent` refunds in 30 days. Counted under the shopper's lock, held
    until commit: a shopper's concurrent requests (on different orders) are decided one after another,
    each seeing the refunds the ones before it approved."""
    lock_user(session, shopper_id)
    since = clock.now() - timedelta(days=30)
    recent = session.scalar(
        select(func.count())
        .select_from(AfterSale)
        .where(
            AfterSale.shopper_id == shopper_id,
            AfterSale.status == AfterSaleStatus.REFUNDED,
            AfterSale.created_at >= since,
        )
    )
    return (recent or 0) < settings.auto_refund_max_recent


# --- may it happen? --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """Why an after-sale action may not happen: a stable code, words for people, and the error that
    `do_*` raises for it (so the page's buttons and the service's refusals cannot drift apart)."""

    code: str
    message: str
    error: type[DomainError]
    field: str | None = None

    def raise_(self) -> NoReturn:
        raise self.error(self.message, field=self.field, code=self.code)


@dataclass(frozen=True)
class AfterSaleOption:
    kind: AfterSaleKind
    refusal: Refusal | None  # None: may be asked for

    @property
    def allowed(self) -> bool:
        return self.refusal is None

    def enforce(self) -> None:
        if self.refusal is not None:
            self.refusal.raise_()


@dataclass(frozen=True)
class LineOption:
    order_line_id: int
    refundable_quantity: int  # units not refunded yet
    returnable: bool  # no-reason returns (seven_day_returns) and units left


@dataclass(frozen=True)
class AfterSaleOptions:
    """Which after-sales the order's shopper may ask for now, and why not."""

    order_id: int
    user_id: int | None  # who asked
    refund_only: AfterSaleOption
    return_refund: AfterSaleOption
    lines: tuple[LineOption, ...]
    open_after_sale_id: int | None
    return_window_closes: datetime | None

    def of(self, kind: AfterSaleKind) -> AfterSaleOption:
        return self.refund_only if kind is AfterSaleKind.REFUND_ONLY else self.return_refund


def check_after_sale(
    order: Order,
    lines: list[OrderLine],
    open_after_sale_id: int | None,
    user_id: int | None,
    now: datetime,
    settings: Settings,
) -> AfterSaleOptions:
    """The rules of asking, in the order do_request applies them: the buyer only; refund only while
    paid (not shipped); a return while delivered and inside the no-reason window, for an order with a
    no-reason line; one open case at a time. Which units a request names is checked by do_request."""
    closes = return_window_closes(order, settings)

    def option(kind: AfterSaleKind) -> AfterSaleOption:
        if user_id != order.shopper_id:
            return AfterSaleOption(
                kind, Refusal("not_shopper", "only the shopper who bought can ask for a refund", Forbidden)
            )
        if kind is AfterSaleKind.REFUND_ONLY and order.status != OrderStatus.PAID:
            why = "refund only is for paid orders not yet shipped; ask for a return"
            return AfterSaleOption(kind, Refusal("invalid_transition", why, InvalidTransition, "kind"))
        if kind is AfterSaleKind.RETURN_REFUND:
            if order.status != OrderStatus.DELIVERED:
                why = "returns are for delivered orders"
                return AfterSaleOption(kind, Refusal("invalid_transition", why, InvalidTransition, "kind"))
            if closes is None or now > closes:
                why = "the return window has closed"
                return AfterSaleOption(kind, Refusal("return_window_closed", why, InvalidTransition, "kind"))
        if open_after_sale_id is not None:
            why = f"after-sale {open_after_sale_id} for this order is still open"
            return AfterSaleOption(kind, Refusal("after_sale_open", why, Conflict))
        if kind is AfterSaleKind.RETURN_REFUND and not any(line.seven_day_returns for line in lines):
            why = "nothing in this order has no-reason returns"
            return AfterSaleOption(kind, Refusal("no_returns", why, Conflict))
        return AfterSaleOption(kind, None)

    return AfterSaleOptions(
        order_id=order.id,
        user_id=user_id,
        refund_only=option(AfterSaleKind.REFUND_ONLY),
        return_refund=option(AfterSaleKind.RETURN_REFUND),
        lines=tuple(
            LineOption(
                line.id,
                line.quantity - line.refunded_quantity,
                line.seven_day_returns and line.quantity > line.refunded_quantity,
            )
            for line in lines
        ),
        open_after_sale_id=open_after_sale_id,
        return_window_closes=closes,
    )


@dataclass(frozen=True)
class CaseOptions:
    """What the shopper may do next on an after-sale: send the goods back, withdraw."""

    ship_return: Refusal | None
    withdraw: Refusal | None


def check_case(case: AfterSale, user_id: int | None) -> CaseOptions:
    def shopper_may(action: str, statuses: tuple[AfterSaleStatus, ...]) -> Refusal | None:
        if user_id != case.shopper_id:
            return Refusal("forbidden", f"only the shopper {action}", Forbidden)
        if case.status not in statuses:
            return Refusal("invalid_transition", f"this after-sale is {case.status}", InvalidTransition, "status")
        return None

    return CaseOptions(
        ship_return=shopper_may("sends the goods back", (AfterSaleStatus.AWAITING_RETURN,)),
        withdraw=shopper_may("withdraws their request", (AfterSaleStatus.REQUESTED, AfterSaleStatus.AWAITING_RETURN)),
    )


def _open_case_id(session: Session, order_id: int) -> int | None:
    return session.scalar(
        select(AfterSale.id).where(
            AfterSale.order_id == order_id, AfterSale.status.in_([s.value for s in orders.OPEN_AFTER_SALE])
        )
    )


def after_sale_options(
    session: Session, clock: Clock, settings: Settings, actor: Actor | None, order_id: int
) -> AfterSaleOptions:
    """check_after_sale for an order the actor may see (its shopper; staff and operators see every
    option refused as not theirs). Unlocked: the answer may be overtaken; do_request decides again."""
    order = orders.get_order(session, actor, order_id)
    return options_for(session, clock, settings, actor, order, orders.lines_of(session, [order.id])[order.id])


def options_for(
    session: Session, clock: Clock, settings: Settings, actor: Actor | None, order: Order, lines: list[OrderLine]
) -> AfterSaleOptions:
    """after_sale_options for an order (and its lines) already read through `orders.get_order`."""
    assert actor is not None
    return check_after_sale(order, lines, _open_case_id(session, order.id), actor.user_id, clock.now(), settings)


def do_request(
    session: Session,
    clock: Clock,
    settings: Settings,
    actor: Actor | None,
    order_id: int,
    *,
    kind: AfterSaleKind,
    reason: str,
    lines: list[tuple[int, int]] | None,
) -> tuple[AfterSale, RefundDue | None]:
    """The shopper asks for money back on some units (`lines`: order_line_id, quantity) or the whole order.
    With the refund due if it was approved at once (`flows.refund.request_after_sale` pays it)."""
    order = orders.get_order(session, actor, order_id)
    assert actor is not None
    if actor.user_id != order.shopper_id:  # before taking the lock: others may not queue on it
        check_after_sale(order, [], None, actor.user_id, clock.now(), settings).of(kind).enforce()
    # Lock the order: concurrent requests, shipping and completion queue here, so the checks below see
    # their outcome (one open case at a time; no refund-only on an order shipped meanwhile).
    session.refresh(order, with_for_update=True)
    now = clock.now()
    order_lines = {line.id: line for line in orders.lines_of(session, [order.id])[order.id]}
    option = check_after_sale(
        order, list(order_lines.values()), _open_case_id(session, order.id), actor.user_id, now, settings
    ).of(kind)
    if option.refusal is not None and option.refusal.code != "no_returns":  # no_returns: per line, below
        option.refusal.raise_()
    wanted = lines if lines is not None else [(i, ol.quantity - ol.refunded_quantity) for i, ol in order_lines.items()]
    chosen: dict[int, int] = {}
    for i, (line_id, quantity) in enumerate(wanted):
        line = order_lines.get(line_id)
        if line is None:
            raise InvalidInput(f"order {order.id} has no line {line_id}", field=f"lines.{i}.order_line_id")
        if kind is AfterSaleKind.RETURN_REFUND and not line.seven_day_returns:
            raise Conflict(
                f"'{line.title}' has no no-reason returns", field=f"lines.{i}.order_line_id", code="no_returns"
            )
        left = line.quantity - line.refunded_quantity - chosen.get(line_id, 0)
        if quantity < 1 or quantity > left:
            raise InvalidInput(f"between 1 and {left} units of this line can be refunded", field=f"lines.{i}.quantity")
        chosen[line_id] = chosen.get(line_id, 0) + quantity
    if not chosen:
        raise Conflict("everything in this order has been refunded", code="nothing_to_refund")
    priced = [
        {"order_line_id": line_id, "quantity": q, "amount_fen": _line_amount(order_lines[line_id], q)}
        for line_id, q in sorted(chosen.items())
    ]
    amount = sum(p["amount_fen"] for p in priced)
    shipping = shipping_refund(order, list(order_lines.values()), chosen, amount)
    case = AfterSale(
        order_id=order.id,
        store_id=order.store_id,
        shopper_id=order.shopper_id,
        kind=kind.value,
        status=AfterSaleStatus.REQUESTED,
        reason=reason,
        lines=priced,
        amount_fen=amount + shipping,
        shipping_refund_fen=shipping,
        auto_approved=False,
        created_at=now,
    )
    session.add(case)
    session.flush()
    emit(
        session,
        clock,
        "AfterSaleRequested",
        "order",
        order.id,
        {"store_id": order.store_id, "after_sale_id": case.id, "kind": kind.value, "amount_fen": case.amount_fen},
        actor_id=actor.user_id,
    )
    if case.amount_fen <= settings.auto_refund_max_fen and _in_good_standing(session, clock, settings, actor.user_id):
        case.auto_approved = True
        due = _approve(session, clock, case, None, "auto-approved: small amount, shopper in good standing")
        return case, due
    return case, None


def shipping_refund(order: Order, lines: list[OrderLine], chosen: dict[int, int], amount: int) -> int:
    """The shipping fee a refund of `chosen` units (order_line_id → quantity, worth `amount`) returns.

    One rule, the same for a whole-order refund and for the same refund in parts, before or after
    shipping: the refund that leaves no unit of the order unrefunded (every line refunded in full) also
    returns the shipping fee — what was paid and is not refunded yet beyond the lines; a partly refunded
    order keeps its shipping fee, which the merchant is paid at completion with the rest of the sale.
    So a fully refunded order gives the shopper back exactly what was paid (nothing is left in escrow),
    however many parts it took."""
    last = all(chosen.get(line.id, 0) == line.quantity - line.refunded_quantity for line in lines)
    return max(0, order.total_fen - order.refunded_fen - amount) if last else 0


def _line_amount(line: OrderLine, quantity: int) -> int:
    """What `quantity` units of a line cost the shopper and are still to give back; the last units take
    any rounding remainder. Their share of what is left on the line: `unit_price × quantity`, unless a
    price-protection payout (guarantees.price_protection, counted in `refunded_fen`) already gave part
    of the line back — then the refund is that much less (the payout is clawed back, never paid twice)."""
    left = line.quantity - line.refunded_quantity
    if quantity == left:
        return line.line_total_fen - line.refunded_fen
    return (line.line_total_fen - line.refunded_fen) * quantity // left


def _approve(
    session: Session, clock: Clock, case: AfterSale, decided_by: int | None, note: str | None
) -> RefundDue | None:
    now = clock.now()
    case.decided_by, case.decided_at, case.decision_note = decided_by, now, note
    if case.kind == AfterSaleKind.REFUND_ONLY:
        return _refund(session, clock, case)
    _set_status(session, case, AfterSaleStatus.REQUESTED, AfterSaleStatus.AWAITING_RETURN)
    return None


def _set_status(session: Session, case: AfterSale, current: AfterSaleStatus, to: AfterSaleStatus) -> None:
    moved = session.execute(
        update(AfterSale).where(AfterSale.id == case.id, AfterSale.status == current.value).values(status=to.value)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(case)
        raise InvalidTransition(f"this after-sale is {case.status}", field="status")
    session.refresh(case)


@dataclass(frozen=True)
class RefundDue:
    """A refunded after-sale's money, still to move (`flows.refund.refund_after_sale`): `amount` back to
    the shopper and `subsidy` (the platform's subsidy on the units given back) back to the platform;
    `order_line_ids`, the lines whose commission may have to be reversed."""

    order: Order
    after_sale_id: int
    amount: int
    subsidy: int
    order_line_ids: list[int] = field(default_factory=list)


def _refund(session: Session, clock: Clock, case: AfterSale) -> RefundDue:
    """The after-sale and its lines refunded, the units restocked and unsold; the money is the caller's
    (the returned `RefundDue`), in the same transaction."""
    from yinli.catalog import service as catalog

    current = AfterSaleStatus(case.status)
    _set_status(session, case, current, AfterSaleStatus.REFUNDED)
    order = session.get(Order, case.order_id, with_for_update=True, populate_existing=True)
    assert order is not None
    # Before any money moves (the gateway refund cannot be rolled back): the order must still be where
    # this kind of refund applies, e.g. not shipped by a racing merchant since the request was made.
    expected = OrderStatus.PAID if case.kind == AfterSaleKind.REFUND_ONLY else OrderStatus.DELIVERED
    if order.status != expected:
        raise InvalidTransition(f"the order is now {order.status}", field="status", code="order_moved")
    refunded_lines = {item["order_line_id"]: session.get(OrderLine, item["order_line_id"]) for item in case.lines}
    # the platform's subsidy on the units given back returns to the platform, not to the merchant
    subsidy = sum(
        (line.platform_subsidy_fen if line else 0) * item["quantity"]
        for item, line in ((item, refunded_lines[item["order_line_id"]]) for item in case.lines)
    )
    now = clock.now()
    restock: list[tuple[int, int]] = []
    unsold: dict[int, int] = {}
    for item in case.lines:
        line = refunded_lines[item["order_line_id"]]
        assert line is not None
        session.execute(
            update(OrderLine)
            .where(OrderLine.id == line.id)
            .values(
                refunded_quantity=OrderLine.refunded_quantity + item["quantity"],
                refunded_fen=OrderLine.refunded_fen + item["amount_fen"],
            )
        )
        restock.append((line.sku_id, item["quantity"]))
        unsold[line.product_id] = unsold.get(line.product_id, 0) - item["quantity"]
    inventory.do_restock(session, restock, "return", case.id, now)
    catalog.do_record_sales(session, unsold)
    case.refunded_at = now
    session.flush()
    remaining = session.scalar(
        select(func.sum(OrderLine.quantity - OrderLine.refunded_quantity)).where(OrderLine.order_id == order.id)
    )
    if not remaining:
        orders.move(session, order, OrderStatus.REFUNDED)
    emit(
        session,
        clock,
        "AfterSaleRefunded",
        "order",
        order.id,
        {"store_id": order.store_id, "after_sale_id": case.id, "amount_fen": case.amount_fen, "kind": case.kind},
    )
    return RefundDue(order, case.id, case.amount_fen, subsidy, [item["order_line_id"] for item in case.lines])


def do_decide(
    session: Session,
    clock: Clock,
    actor: Actor | None,
    after_sale_id: int,
    *,
    approve: bool,
    note: str | None,
) -> tuple[AfterSale, RefundDue | None]:
    """The merchant (or an operator) approves or rejects; a rejection must say why. With the refund due
    if approving refunded (`flows.refund.decide_after_sale` pays it)."""
    case = get_after_sale(session, actor, after_sale_id)
    actor = require_store_manager(actor, case.store_id)
    if case.status != AfterSaleStatus.REQUESTED:
        raise InvalidTransition(f"this after-sale is {case.status}", field="status")
    due = None
    if approve:
        due = _approve(session, clock, case, actor.user_id, note)
    else:
        if not note:
            raise InvalidInput("say why the request is rejected", field="note")
        _set_status(session, case, AfterSaleStatus.REQUESTED, AfterSaleStatus.REJECTED)
        case.decided_by, case.decided_at, case.decision_note = actor.user_id, clock.now(), note
    emit(
        session,
        clock,
        "AfterSaleDecided",
        "order",
        case.order_id,
        {"store_id": case.store_id, "after_sale_id": case.id, "approved": approve},
        actor_id=actor.user_id,
    )
    session.flush()
    return case, due


def do_ship_return(
    session: Session, clock: Clock, actor: Actor | None, after_sale_id: int, carrier: str, tracking_no: str
) -> AfterSale:
    case = get_after_sale(session, actor, after_sale_id)
    assert actor is not None
    if (refusal := check_case(case, actor.user_id).ship_return) is not None:
        refusal.raise_()
    _set_status(session, case, AfterSaleStatus.AWAITING_RETURN, AfterSaleStatus.RETURN_SHIPPED)
    case.return_carrier, case.return_tracking_no = carrier, tracking_no
    session.flush()
    return case


def do_receive_return(
    session: Session, clock: Clock, actor: Actor | None, after_sale_id: int
) -> tuple[AfterSale, RefundDue]:
    """The store got the goods back: the after-sale is refunded (`flows.refund.receive_return` pays it)."""
    case = get_after_sale(session, actor, after_sale_id)
    require_store_manager(actor, case.store_id)
    if case.status != AfterSaleStatus.RETURN_SHIPPED:
        raise InvalidTransition(f"this after-sale is {case.status}", field="status")
    return case, _refund(session, clock, case)


def do_withdraw(session: Session, clock: Clock, actor: Actor | None, after_sale_id: int) -> AfterSale:
    case = get_after_sale(session, actor, after_sale_id)
    assert actor is not None
    if (refusal := check_case(case, actor.user_id).withdraw) is not None:
        refusal.raise_()
    _set_status(session, case, AfterSaleStatus(case.status), AfterSaleStatus.WITHDRAWN)
    return case
