"""The line ``paper`` and ``run`` print for what a start settled: the same words from both, counts read as
written, and the orders recovery closed (an earlier session's orders expire there) among them."""

from __future__ import annotations

from maemae.engine.recovery import RecoveryReport


def test_recovery_line_when_one_of_each_then_singular_and_closed_orders_counted() -> None:
    report = RecoveryReport(
        restored_orders=1,
        found=["20251203-000001"],
        recovered_fills=["0000101:5"],
        closed=["20251202-000001", "20251202-000002"],
        differences=["cash settled_cash: maemae 1, broker 2 (set to the broker's)"],
    )
    assert report.line() == (
        "recovery: 1 order restored, 1 found at the broker, 0 never sent, 1 fill recovered, 2 closed, "
        "1 reconciliation difference"
    )


def test_recovery_line_when_many_then_thousands_separated_and_plural() -> None:
    report = RecoveryReport(
        restored_orders=1_200, recovered_fills=[str(n) for n in range(1_500)], trades_with="venue"
    )
    assert report.line() == (
        "recovery: 1,200 orders restored, 0 found at the venue, 0 never sent, 1,500 fills recovered, "
        "0 closed, 0 reconciliation differences"
    )


def test_recovery_line_when_the_broker_cannot_list_an_earlier_day_then_the_day_is_named() -> None:
    """Creon lists today's orders only: the orders of an earlier session are expired without a look at their
    day, and the operator is told which days those were."""
    report = RecoveryReport(restored_orders=2, closed=["20251201-000001", "20251202-000001"])
    report.unasked_days = ["2025-12-01", "2025-12-02"]
    assert report.line() == (
        "recovery: 2 orders restored, 0 found at the broker, 0 never sent, 0 fills recovered, 2 closed, "
        "0 reconciliation differences; the broker cannot list the orders of 2025-12-01, 2025-12-02: their "
        "orders were expired unchecked"
    )
