"""Background work: idempotent, safe to run concurrently with itself, run after commit.

`run_once` is what the app's background thread (every `YINLI_JOBS_INTERVAL_SECONDS`), the CLI and
tests call: expire unpaid orders (closing their payments), deliver and complete orders on schedule,
finish payments stuck in processing, close pending payments with nothing left to pay, give back escrow
stranded on refunded orders, bring store metrics up to date from the outbox, and keep the shopper
guarantees: price protection (价保) pays lines whose window closed with a drop
(guarantees.price_protection.run_job); pay later bills orders due and retries declined bills
(guarantees.credit.run_billing); return-shipping cover pays the postage of covered received returns the
inline payout missed (guarantees.return_cover.run_catch_up).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from yinli.accounts import service as accounts
from yinli.core.clock import Clock
from yinli.core.db import Database
from yinli.core.settings import Settings
from yinli.flows import charge
from yinli.flows.settle import JobReport, run_order_jobs
from yinli.guarantees import credit, price_protection, return_cover
from yinli.orders import metrics
from yinli.payments import service as payments
from yinli.payments.gateway import PaymentGateway
from yinli.search.service import run_jobs as search_jobs
from yinli.traffic.service import run_jobs as traffic_jobs

log = logging.getLogger("yinli.jobs")
STUCK_PAYMENT_AFTER = timedelta(minutes=2)


@dataclass
class JobsReport:
    orders: JobReport
    payments_reconciled: int
    metric_events: int
    payments_closed: int = 0  # pending payments none of whose orders was left to pay
    escrow_returned: int = 0  # refunded orders whose stranded shipping fee was given back
    search_events: int = 0  # outbox events the search index (and search log) consumed
    traffic_events: int = 0  # outbox and feed-log events the traffic engine (features, plans) consumed
    price_protected: int = 0  # price protection (价保): lines paid their drop as their window closed
    pay_later_bills: int = 0  # pay later: bills charged (N days after delivery, or retried in dunning)
    return_covers_paid: int = 0  # return-shipping cover: received returns whose postage the inline payout missed


def run_once(database: Database, clock: Clock, settings: Settings, gateway: PaymentGateway) -> JobsReport:
    with database.session() as session:
        reconciled = charge.reconcile_processing(session, clock, gateway, STUCK_PAYMENT_AFTER)
    # price protection (价保): before the order jobs, so a line whose window closed is paid from escrow
    protected = price_protection.run_job(database, clock, settings, gateway)
    with database.session() as session:
        order_report = run_order_jobs(session, clock, settings)
    with database.session() as session:
        closed = payments.close_unpayable(session)
        returned = payments.return_stranded_escrow(session, clock, gateway)
    with database.session() as session:  # pay later: bills due after delivery, dunning retries (guarantees.credit)
        billing = credit.run_billing(session, clock, settings, gateway)
    with database.session() as session:  # return-shipping cover: postage the inline payout did not pay
        covers_paid = return_cover.run_catch_up(session, clock, gateway)
    with database.session() as session:
        applied = metrics.refresh(session, clock)
    searched = search_jobs(database, clock, settings)  # keeps the search index within one round of the catalog
    traffic = traffic_jobs(database, clock, settings)  # event log, features, plans, feed snapshot
    with database.session() as session:  # sign-in counters whose window has passed
        accounts.do_purge_sign_in_counts(session, clock, timedelta(seconds=settings.sign_in_window_seconds))
    return JobsReport(
        order_report,
        reconciled,
        applied,
        closed,
        returned,
        searched,
        traffic,
        price_protected=protected,
        pay_later_bills=billing.billed + billing.retried,
        return_covers_paid=covers_paid,
    )


class JobRunner:
    """A daemon thread that calls `run_once` every `interval` seconds until stopped."""

    def __init__(self, interval: float, work: Callable[[], object]) -> None:
        self.interval, self.work = interval, work
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="yinli-jobs", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.work()
            except Exception:  # a failed round is logged and retried next round; jobs are idempotent
                log.exception("background jobs failed")
