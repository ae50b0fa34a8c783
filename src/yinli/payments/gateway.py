"""Payment gateway adapter, and the built-in simulated gateway used by the simulator, tests and demo.

A real gateway (Alipay, WeChat Pay, a card processor) implements `PaymentGateway`. Every call carries an
idempotency key: the gateway must return the first result for a key it has seen, so a retried charge or
refund never moves money twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

Outcome = Literal["succeeded", "failed", "pending"]


@dataclass(frozen=True)
class GatewayResult:
    outcome: Outcome
    reference: str
    reason: str | None = None


class PaymentGateway(Protocol):
    name: str

    def charge(self, key: str, amount_fen: int, currency: str, method: str) -> GatewayResult: ...

    def refund(self, key: str, charge_reference: str, amount_fen: int, currency: str) -> GatewayResult: ...

    def lookup(self, key: str) -> GatewayResult | None:
        """The result of an earlier charge with this key (None if the gateway never saw it)."""
        ...


Callback = Callable[[str, GatewayResult], None]


@dataclass
class SimulatedGateway:
    """In-process gateway with injectable faults.

    - `failure_rate`: share of charges declined (drawn from a seeded generator);
    - `fail_next(n)`: decline the next n charges; `pending_next(n)`: answer the next n charges "pending"
      and settle them later through `deliver_callbacks()` (an asynchronous provider callback);
    - refunds always succeed unless `refunds_fail` is set.
    Keys are remembered: the same key returns the same result and moves money once.
    """

    name: str = "simulated"
    failure_rate: float = 0.0
    seed: int = 0
    refunds_fail: bool = False
    # references are "<prefix>-ch-N": processes that each hold a gateway (the simulator's workers) take
    # different prefixes, so two charges never share a reference
    reference_prefix: str = "sim"
    _rng: np.random.Generator = field(init=False)
    _charges: dict[str, GatewayResult] = field(default_factory=dict, init=False)
    _refunds: dict[str, GatewayResult] = field(default_factory=dict, init=False)
    _pending: list[str] = field(default_factory=list, init=False)
    _amounts: dict[str, int] = field(default_factory=dict, init=False)
    _fail_next: int = field(default=0, init=False)
    _pending_next: int = field(default=0, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    captured_fen: int = field(default=0, init=False)  # money actually moved, for reconciliation in tests
    refunded_fen: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)

    def fail_next(self, n: int = 1) -> None:
        with self._lock:
            self._fail_next += n

    def pending_next(self, n: int = 1) -> None:
        with self._lock:
            self._pending_next += n

    def charge(self, key: str, amount_fen: int, currency: str, method: str) -> GatewayResult:
        with self._lock:
            if key in self._charges:
                return self._charges[key]
            ref = f"{self.reference_prefix}-ch-{len(self._charges) + 1}"
            if self._fail_next:
                self._fail_next -= 1
                result = GatewayResult("failed", ref, "card declined")
            elif self._pending_next:
                self._pending_next -= 1
                result = GatewayResult("pending", ref)
                self._pending.append(key)
            elif self.failure_rate and self._rng.random() < self.failure_rate:
                result = GatewayResult("failed", ref, "card declined")
            else:
                result = GatewayResult("succeeded", ref)
                self.captured_fen += amount_fen
            self._charges[key] = result
            self._amounts[key] = amount_fen
            return result

    def refund(self, key: str, charge_reference: str, amount_fen: int, currency: str) -> GatewayResult:
        with self._lock:
            if key in self._refunds:
                return self._refunds[key]
            if self.refunds_fail:
                ref = f"{self.reference_prefix}-rf-x{len(self._refunds) + 1}"
                return GatewayResult("failed", ref, "refund rejected")
            result = GatewayResult("succeeded", f"{self.reference_prefix}-rf-{len(self._refunds) + 1}")
            self._refunds[key] = result
            self.refunded_fen += amount_fen
            return result

    def lookup(self, key: str) -> GatewayResult | None:
        with self._lock:
            return self._charges.get(key)

    def deliver_callbacks(self, callback: Callback, succeed: bool = True) -> int:
        """Settle pending charges and tell yinli, as a provider's asynchronous notification would."""
        with self._lock:
            keys, self._pending = self._pending, []
            for key in keys:
                old = self._charges[key]
                if succeed:
                    self._charges[key] = GatewayResult("succeeded", old.reference)
                    self.captured_fen += self._amounts[key]
                else:
                    self._charges[key] = GatewayResult("failed", old.reference, "authorisation expired")
            settled = [(k, self._charges[k]) for k in keys]
        for key, result in settled:
            callback(key, result)
        return len(settled)
