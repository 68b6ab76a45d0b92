"""No order request leaves a run that has lost its store's instance lock (``maemae.store.instance_lock``).

A run that lost the lock may already share the store with a second run, and both would send the day's
orders. So every submit, cancel and modify first checks the lock; a lost one raises ``InstanceLockLost``
(exit 7) before anything reaches the broker. The order manager lets it through: an order it had just saved
as SUBMITTED (or PENDING_CANCEL, PENDING_MODIFY) stays so, and the next start settles it by a query of the
broker (a submit the broker never got is rejected as never sent; a cancel or modify it never got leaves the
order working), as it settles any request that may not have left. Reads pass through unchecked: they change
nothing at the broker, and recovery needs them. The drivers also check once a minute, so a run that sends
nothing still stops.
"""

from __future__ import annotations

from collections.abc import Callable

from maemae.domain.codes import StockCode
from maemae.engine.broker_wrapper import BrokerWrapper
from maemae.ports.broker import Broker, OrderAck, OrderRequest

LockCheck = Callable[[], None]  # raises InstanceLockLost once the lock is lost


class LockGuardedBroker(BrokerWrapper):
    """The broker port, with ``check`` called before every order request."""

    def __init__(self, inner: Broker, check: LockCheck) -> None:
        super().__init__(inner)
        self.check = check

    def submit(self, request: OrderRequest) -> OrderAck:
        self.check()
        return self.inner.submit(request)

    def cancel(self, broker_order_no: str, code: StockCode, quantity: int | None = None) -> OrderAck:
        self.check()
        return self.inner.cancel(broker_order_no, code, quantity)

    def modify(
        self, broker_order_no: str, code: StockCode, price: int, quantity: int | None = None
    ) -> OrderAck:
        self.check()
        return self.inner.modify(broker_order_no, code, price, quantity)
