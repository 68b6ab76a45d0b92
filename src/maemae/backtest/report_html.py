"""A self-contained HTML report of a backtest: what ran (the strategies and their settings, the risk rules),
metrics, equity curve, drawdown, and trades on price charts.

Charts are inline SVG drawn here, so the file opens anywhere with no network and no JavaScript. Every text
that comes from the user (a strategy's file path, a setting's value, a stock's name) is escaped.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from pathlib import PurePath

from pydantic import BaseModel

from maemae.backtest.metrics import Metrics, drawdowns, percent
from maemae.backtest.runner import DayRecord
from maemae.config import MaemaeConfig
from maemae.config.strategies import StrategySpec
from maemae.data.bars import BarArrays
from maemae.domain.codes import StockCode
from maemae.domain.enums import Side
from maemae.domain.fill import Fill

WIDTH, HEIGHT, PAD = 860, 220, 36


def _polyline(values: Sequence[float], low: float, high: float, colour: str) -> str:
    span = (high - low) or 1.0
    step = (WIDTH - 2 * PAD) / max(len(values) - 1, 1)
    points = " ".join(
        f"{PAD + i * step:.1f},{HEIGHT - PAD - (v - low) / span * (HEIGHT - 2 * PAD):.1f}"
        for i, v in enumerate(values)
    )
    return f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/>'


def _won(value: float) -> str:
    """Money and prices as whole won with thousands separators; `.4g` gave `1.003e+08` on the chart labels."""
    return f"{round(value):,}"


def _percent(value: float) -> str:
    """A fraction such as a drawdown as a percent, e.g. -0.0123 -> `-1.23%`."""
    return f"{value:.2%}"


def _chart(
    title: str,
    values: Sequence[float],
    colour: str,
    labels: tuple[str, str],
    extra: str = "",
    fmt: Callable[[float], str] = _won,
) -> str:
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    return (
        f"<h3>{html.escape(title)}</h3>"
        f'<svg width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{html.escape(title)}">'
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#fafafa" stroke="#ddd"/>'
        f'<text x="{PAD}" y="14" font-size="11">{fmt(high)}</text>'
        f'<text x="{PAD}" y="{HEIGHT - 8}" font-size="11">{fmt(low)}  ({labels[0]} .. {labels[1]})</text>'
        f"{_polyline(values, low, high, colour) if values else ''}{extra}</svg>"
    )


def _price_chart(code: StockCode, daily: BarArrays, days: Sequence[date], fills: Sequence[Fill]) -> str:
    closes = [float(c) for c in daily.close]
    if not closes:
        return ""
    low, high = min(closes), max(closes)
    span = (high - low) or 1.0
    index = {d: i for i, d in enumerate(days)}
    step = (WIDTH - 2 * PAD) / max(len(closes) - 1, 1)
    marks = []
    for fill in fills:
        i = index.get(fill.ts.date())
        if i is None:
            continue
        x = PAD + i * step
        y = HEIGHT - PAD - (fill.price - low) / span * (HEIGHT - 2 * PAD)
        colour = "#cf222e" if fill.side is Side.BUY else "#0969da"  # as Korean charts show them: buys red
        shape = (
            f"{x:.1f},{y + 7:.1f} {x - 5:.1f},{y + 15:.1f} {x + 5:.1f},{y + 15:.1f}"
            if fill.side is Side.BUY
            else (f"{x:.1f},{y - 7:.1f} {x - 5:.1f},{y - 15:.1f} {x + 5:.1f},{y - 15:.1f}")
        )
        tip = html.escape(f"{fill.ts:%Y-%m-%d %H:%M} {fill.side.value} {fill.quantity} @ {fill.price:,}")
        marks.append(f'<polygon points="{shape}" fill="{colour}"><title>{tip}</title></polygon>')
    labels = (days[0].isoformat(), days[-1].isoformat()) if days else ("", "")
    return _chart(
        f"{code}: daily close with buys (red, below) and sells (blue, above)",
        closes,
        "#555",
        labels,
        "".join(marks),
    )


Rows = tuple[tuple[str, ...], ...]

# the risk rules that decide how often a stock may be traded: compare's policies switch only these
OVERTRADING = ("one_trade_a_day", "cooldown", "reentry", "daily_caps", "take_profit")


@dataclass(frozen=True, slots=True)
class RunSettings:
    """What a backtest ran with, as text rows for its report (escaped when rendered).

    ``strategies``: (role, class as the config names it, parameters as validated, defaults included);
    ``risk``: (rule, "off" or its parameters); ``overtrading``: the overtrading controls switched on;
    ``run``: (setting, value) of the backtest, universe and bars."""

    strategies: Rows
    risk: Rows
    overtrading: tuple[str, ...]
    run: Rows


def setting_value(value: object) -> str:
    """One setting's value as a config file spells it: ``true``, ``"exits_only"``, ``[1, 2]``, ``{a = 1}``;
    an unset optional value is ``none``."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return setting_value(value.value)
    if isinstance(value, str | PurePath):
        return json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return "{" + _settings(_fields(value)) + "}"
    if isinstance(value, Mapping):
        return "{" + _settings(value.items()) + "}"
    if isinstance(value, list | tuple | set | frozenset):
        return "[" + ", ".join(setting_value(item) for item in value) + "]"
    return str(value)


def _fields(model: BaseModel) -> list[tuple[str, object]]:
    """Every field of ``model`` in declaration order, the defaults included."""
    return [(name, getattr(model, name)) for name in type(model).model_fields]


def _settings(items: Iterable[tuple[object, object]]) -> str:
    return ", ".join(f"{name} = {setting_value(value)}" for name, value in items)


def _strategy_row(role: str, spec: StrategySpec | None, strategy: object) -> tuple[str, str, str]:
    """A strategy's row: its class as the config names it (a built-in name or ``path/file.py:Class``) and
    the parameters it ran with, as its ``Params`` validated them; the config's table as written for a class
    whose ``__init__`` did not keep them."""
    params = getattr(strategy, "params", None)
    items = _fields(params) if isinstance(params, BaseModel) else list((spec.params if spec else {}).items())
    return (role, spec.class_ if spec else "none", _settings(items) or "(no parameters)")


def _rule(section: BaseModel) -> str:
    """A risk rule: ``off``, or its parameters (``on: ...`` for a rule with a switch)."""
    if getattr(section, "enabled", True) is False:
        return "off"
    shown = _settings((name, value) for name, value in _fields(section) if name != "enabled")
    return f"on: {shown}" if "enabled" in type(section).model_fields else shown


def run_settings(config: MaemaeConfig, daily: object, minute: object) -> RunSettings:
    """The settings of a run of ``config`` with the strategies ``daily`` and ``minute`` it loaded."""
    risk = config.risk
    universe = config.universe
    chosen = (
        f"fixed: codes = {setting_value([str(code) for code in universe.codes])}"
        if universe.selector == "fixed"
        else f"{universe.selector}: max_stocks = {universe.max_stocks}, "
        f"lookback_days = {universe.lookback_days}, include_funds = {setting_value(universe.include_funds)}"
    )
    safe = universe.safe_asset_code
    return RunSettings(
        strategies=(
            _strategy_row("daily", config.strategies.daily, daily),
            _strategy_row("minute", config.strategies.minute, minute),
        ),
        risk=tuple((name, _rule(getattr(risk, name))) for name in type(risk).model_fields),
        overtrading=tuple(name for name in OVERTRADING if getattr(risk, name).enabled),
        run=(
            ("initial cash", f"{config.backtest.initial_cash:,} won"),
            ("bars", config.backtest.bars),
            ("universe", chosen),
            ("safe asset", str(safe) if safe is not None else "none"),
            ("commission rate", str(config.costs.commission_rate)),
        ),
    )


def _table(rows: Rows, head: tuple[str, ...] = ()) -> str:
    """Rows as a table, the first cell of each a header; every cell escaped."""
    header = "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>" if head else ""
    body = "".join(
        f"<tr><th>{html.escape(row[0])}</th>"
        + "".join(f"<td>{html.escape(c)}</td>" for c in row[1:])
        + "</tr>"
        for row in rows
    )
    return f"<table>{header}{body}</table>"


def strategies_html(settings: RunSettings) -> str:
    """The strategies section: each one's class and parameters."""
    return "<h2>Strategies</h2>" + _table(settings.strategies, ("", "class", "parameters"))


def rules_html(settings: RunSettings) -> str:
    """The risk rules the run had (the overtrading controls first) and the backtest's own settings."""
    policy = ", ".join(settings.overtrading) or "none"
    return (
        f"<h2>Risk rules</h2><p>Overtrading controls on: {html.escape(policy)}</p>"
        + _table(settings.risk)
        + "<h2>Backtest settings</h2>"
        + _table(settings.run)
    )


def _strategy_errors_row(count: int, first: str) -> list[tuple[str, str]]:
    """The strategy errors row, or none when there were none."""
    return [("strategy errors", f"{count:,} (first: {first}); see the log")] if count else []


def render_report(
    title: str,
    metrics: Metrics,
    days: Sequence[DayRecord],
    fills: Sequence[Fill],
    daily_bars: Mapping[StockCode, BarArrays],
    names: Mapping[StockCode, str],
    *,
    strategy_errors: int = 0,
    first_strategy_error: str = "",
    settings: RunSettings | None = None,
) -> str:
    """The report page. ``strategy_errors`` (with the first one) gets a row when not 0: a strategy that
    failed on every bar shows no trades, which must not read as a strategy that chose not to trade.
    ``settings`` (:func:`run_settings`): what ran, its strategies above the metrics and its risk rules and
    backtest settings below the charts."""
    equity = [float(d.equity) for d in days]
    labels = (days[0].day.isoformat(), days[-1].day.isoformat()) if days else ("", "")
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in [
            ("final equity", f"{metrics.final_equity:,} won"),
            ("total return", percent(metrics.total_return)),
            ("CAGR", percent(metrics.cagr)),
            ("max drawdown", percent(metrics.max_drawdown)),
            ("Sharpe", f"{metrics.sharpe:.2f}"),
            ("executed orders", f"{metrics.n_trades:,} ({metrics.n_fills:,} fills)"),
            ("win rate", percent(metrics.win_rate, 1)),
            ("turnover (per year)", f"{metrics.turnover:.2f}x"),
            ("commission + tax", f"{metrics.commission:,} + {metrics.tax:,} won"),
            ("denied orders", ", ".join(f"{k} {v}" for k, v in metrics.denied_orders.items()) or "none"),
            *_strategy_errors_row(strategy_errors, first_strategy_error),
        ]
    )
    by_code = Counter(fill.code for fill in fills)
    session_days = [d.day for d in days]
    charts = "".join(
        _price_chart(code, daily_bars[code], session_days, [f for f in fills if f.code == code])
        for code, _ in by_code.most_common(3)
        if code in daily_bars
    )
    names_note = ", ".join(f"{c} {html.escape(names.get(c, ''))}" for c, _ in by_code.most_common(3))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:900px}}table{{border-collapse:collapse}}
th,td{{padding:.25em .8em;border-bottom:1px solid #eee;text-align:left}}</style></head>
<body><h1>{html.escape(title)}</h1>
{strategies_html(settings) if settings is not None else ""}
<h2>Results</h2>
<table>{rows}</table>
{_chart("Equity (won)", equity, "#0969da", labels)}
{_chart("Drawdown", [float(x) for x in drawdowns([int(e) for e in equity])], "#cf222e", labels, fmt=_percent)}
<h2>Most traded stocks</h2><p>{names_note}</p>
{charts}
{rules_html(settings) if settings is not None else ""}
</body></html>
"""
