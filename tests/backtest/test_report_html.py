"""report.html: the chart labels read as won, prices and percents, never in scientific notation."""

from datetime import date, datetime

import numpy as np

from maemae.backtest.metrics import Metrics
from maemae.backtest.report_html import render_report
from maemae.backtest.runner import DayRecord
from maemae.data.bars import BarArrays
from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.enums import Side
from maemae.domain.fill import Fill

CODE = StockCode("287180")


def _report() -> str:
    days = [
        DayRecord(date(2025, 1, 2), 100_000_000, 100_000_000, 0),
        DayRecord(date(2025, 1, 3), 100_300_000, 86_250_000, 1),
        DayRecord(date(2025, 1, 6), 98_294_000, 86_250_000, 1),
    ]
    closes = np.array([137_500, 140_500, 126_450], dtype=np.int64)
    ones = np.ones(3, dtype=np.int64)
    bars = BarArrays(np.arange(3, dtype=np.int64), closes, closes, closes, closes, ones, closes)
    at = datetime(2025, 1, 3, 9, 1, tzinfo=KST)
    fill = Fill("F1", "20250103-000001", "S0000001", CODE, Side.BUY, 100, 137_500, at)
    metrics = Metrics(
        initial_cash=100_000_000,
        sessions=2,
        final_equity=98_294_000,
        total_return=-0.017,
        cagr=-0.9,
        max_drawdown=-0.02,
        sharpe=-1.0,
        n_trades=1,
        n_fills=1,
        win_rate=0.0,
        turnover=0.1,
        commission=2_000,
        tax=0,
        denied_orders={},
    )
    return render_report("test", metrics, days, [fill], {CODE: bars}, {CODE: "name"})


def test_report_chart_labels_when_money_is_large_show_whole_won_with_separators() -> None:
    html = _report()
    assert "e+0" not in html
    assert ">100,300,000</text>" in html
    assert ">100,000,000  (2025-01-02 .. 2025-01-06)" not in html  # the low of the equity chart is 98,294,000
    assert ">98,294,000  (2025-01-02 .. 2025-01-06)</text>" in html
    assert ">140,500</text>" in html
    assert ">126,450  (2025-01-02 .. 2025-01-06)</text>" in html


def test_report_chart_labels_when_drawdown_show_percent() -> None:
    html = _report()
    drawdown = html.split("<h3>Drawdown</h3>", 1)[1].split("</svg>", 1)[0]
    assert ">0.00%</text>" in drawdown
    assert ">-2.00%  (2025-01-02 .. 2025-01-06)</text>" in drawdown
