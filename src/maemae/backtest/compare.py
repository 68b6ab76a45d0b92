"""``maemae compare``: the same strategy and data under each overtrading policy, side by side (SPEC 1).

The policies build on each other, from none to the full set, so the table shows what each control adds:
none; one trade a day; cooldown; cooldown + stricter re-entry; + daily caps; + partial take-profit.
Stops and the portfolio stop stay as configured in every run, so only the overtrading controls differ.

The comparison's files (``compare.csv``, ``compare.html`` and each policy's folder) are one set, as a
backtest's are (:mod:`maemae.backtest.outputs`): every target is checked before the first run, the runs write
into a staging folder, and the set replaces the previous comparison's only once all six runs are written. A
failed or interrupted comparison leaves the previous one whole, never tables of one run beside folders of
another.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from maemae import ctrl_c
from maemae.backtest.market import BacktestMarket
from maemae.backtest.metrics import Metrics, percent
from maemae.backtest.outputs import OUTPUT_FILES, failed_write, publish, staged, write_text_atomically
from maemae.backtest.report_html import RunSettings, run_settings, strategies_html
from maemae.backtest.service import (
    BacktestResult,
    Notice,
    load_market,
    run_backtest,
    write_outputs,
)
from maemae.config import MaemaeConfig
from maemae.config.risk import RiskConfig
from maemae.engine.composition import load_strategies


@dataclass(frozen=True, slots=True)
class PolicyResult:
    policy: str
    metrics: Metrics
    # the strategy's hooks that raised in the run (the kernel counts and logs each): a policy whose strategy
    # failed on every bar ends with 0 orders, which must not read as one that chose not to trade
    strategy_errors: int = 0
    first_strategy_error: str = ""


def _switch(risk: RiskConfig, **enabled: bool) -> RiskConfig:
    update = {name: getattr(risk, name).model_copy(update={"enabled": on}) for name, on in enabled.items()}
    return risk.model_copy(update=update)


OFF = {
    "one_trade_a_day": False,
    "cooldown": False,
    "reentry": False,
    "daily_caps": False,
    "take_profit": False,
}

POLICIES: dict[str, dict[str, bool]] = {
    "none": OFF,
    "one_trade_a_day": {**OFF, "one_trade_a_day": True},
    "cooldown": {**OFF, "cooldown": True},
    "cooldown+reentry": {**OFF, "cooldown": True, "reentry": True},
    "cooldown+reentry+caps": {**OFF, "cooldown": True, "reentry": True, "daily_caps": True},
    "cooldown+reentry+caps+take_profit": {
        **OFF,
        "cooldown": True,
        "reentry": True,
        "daily_caps": True,
        "take_profit": True,
    },
}

TABLES = ("compare.csv", "compare.html")
COMPARE_FILES = (*TABLES, *(f"{policy}/{name}" for policy in POLICIES for name in OUTPUT_FILES))
WHAT = "the comparison's outputs"

# compare.csv's columns, the figures as a program reads them: ratios as fractions, costs in won, turnover as
# traded value per year over the average equity, an empty win rate where nothing was sold
# and the strategy's errors in every file, 0 when there were none, so a program reads the same columns always
COLUMNS = (
    "policy",
    "total_return",
    "max_drawdown",
    "sharpe",
    "n_trades",
    "turnover",
    "costs",
    "win_rate",
    "strategy_errors",
)
# the printed table's and compare.html's, the same figures as a person reads them, each with its unit
HEADERS = (
    "policy",
    "return",
    "max drawdown",
    "Sharpe",
    "orders",  # executed: with a fill
    "turnover /yr",
    "commission + tax",
    "win rate",
)
# the column the printed table and compare.html add when a policy's strategy raised (a clean run's table is
# as it was: a column of zeros would say nothing)
ERRORS_HEADER = "strategy errors"


def compare_policies(
    config: MaemaeConfig,
    *,
    start: date | None = None,
    end: date | None = None,
    out_dir: Path | None = None,
    on_policy: Callable[[str], None] | None = None,
    out_option: str = "out_dir",
    notice: Notice | None = None,
    out_given: Path | None = None,
) -> list[PolicyResult]:
    """Each policy's backtest, its outputs in a folder of ``out_dir`` named after it, and the table of all
    in ``compare.csv`` and ``compare.html``, all replaced as one set; ``out_option`` names where ``out_dir``
    came from in an error line, ``out_given`` its value when ``out_dir`` is the folder made in it
    (``outputs.open_staging``). The market is loaded once: the policies differ only in their risk section,
    which the load does not read. The strategies are loaded first, so one that cannot be is refused before
    any policy is said to run."""
    load_strategies(config)
    if out_dir is None:
        loaded = load_market(config, start, end, backtest=True, notice=notice)
        return [_result(name, result) for name, result in _policy_runs(config, loaded, on_policy, notice)]
    with staged(out_dir, out_option, COMPARE_FILES, out_given) as staging:
        loaded = load_market(config, start, end, backtest=True, notice=notice)
        results: list[PolicyResult] = []
        settings: RunSettings | None = None  # the strategies, the same in every policy's run
        for name, result in _policy_runs(config, loaded, on_policy, notice):
            with _writing(out_dir, out_option, out_given):
                write_outputs(staging / name, f"maemae policy: {name}", result, *loaded)
            results.append(_result(name, result))
            engine = result.engine
            settings = settings or run_settings(engine.config, engine.daily, engine.minute)
        with _writing(out_dir, out_option, out_given):
            write_text_atomically(staging / "compare.csv", compare_csv(results))
            write_text_atomically(staging / "compare.html", compare_html(results, settings))
        ctrl_c.honour()  # the last moment to be interrupted: after it the set is in place
        publish(staging, out_dir, out_option, COMPARE_FILES, WHAT, out_given)
    return results


def _policy_runs(
    config: MaemaeConfig,
    loaded: tuple[BacktestMarket, list[date]],
    on_policy: Callable[[str], None] | None,
    notice: Notice | None,
) -> Iterator[tuple[str, BacktestResult]]:
    """Each policy's backtest on the shared market, by name, one run each time the caller asks for the next
    (a comparison writes a policy's outputs before the next one runs). ``notice`` goes to the first run
    alone: what a run says of its days and data (a short history, sessions without minute bars) is the same
    in every policy, and said once."""
    for name, switches in POLICIES.items():
        if on_policy:
            on_policy(name)
        policy_config = config.model_copy(update={"risk": _switch(config.risk, **switches)})
        yield name, run_backtest(policy_config, loaded=loaded, notice=notice)
        notice = None


def _result(name: str, result: BacktestResult) -> PolicyResult:
    kernel = result.engine.kernel
    return PolicyResult(name, result.metrics, kernel.strategy_errors, kernel.first_strategy_error)


@contextmanager
def _writing(out_dir: Path, option: str, given: Path | None) -> Iterator[None]:
    """A failure to write into the staging folder as one line (exit 1): the folder passed its check before
    the runs, so the machine is the cause; the previous comparison stays as it was."""
    try:
        yield
    except OSError as error:
        raise failed_write(out_dir, option, error, what=WHAT, given=given) from None


def row(result: PolicyResult) -> tuple[str, ...]:
    """A policy's line of compare.csv (:data:`COLUMNS`)."""
    m = result.metrics
    return (
        result.policy,
        f"{m.total_return:.4f}",
        f"{m.max_drawdown:.4f}",
        f"{m.sharpe:.3f}",
        str(m.n_trades),
        f"{m.turnover:.2f}",
        str(m.commission + m.tax),
        "" if m.win_rate is None else f"{m.win_rate:.3f}",
        str(result.strategy_errors),
    )


def shown_headers(results: list[PolicyResult]) -> tuple[str, ...]:
    """The printed table's and compare.html's columns: :data:`HEADERS`, and the strategy's errors when a
    policy had any."""
    return (*HEADERS, ERRORS_HEADER) if _any_errors(results) else HEADERS


def shown_row(result: PolicyResult, errors: bool = False) -> tuple[str, ...]:
    """A policy's line of the printed table and compare.html (:data:`HEADERS`; with ``errors``, and its
    strategy's errors: :func:`shown_headers`)."""
    m = result.metrics
    return (
        result.policy,
        percent(m.total_return),
        percent(m.max_drawdown),
        f"{m.sharpe:.2f}",
        f"{m.n_trades:,}",
        f"{m.turnover:.2f}x",
        f"{m.commission + m.tax:,} won",
        percent(m.win_rate, 1),
        *((f"{result.strategy_errors:,}",) if errors else ()),
    )


def _any_errors(results: list[PolicyResult]) -> bool:
    return any(result.strategy_errors for result in results)


def errors_note(results: list[PolicyResult]) -> str | None:
    """The line under the table when a policy's strategy raised (None otherwise): its figures are of a
    strategy that failed on those calls, and the first error says where to look."""
    failed = [result for result in results if result.strategy_errors]
    if not failed:
        return None
    most = max(failed, key=lambda result: result.strategy_errors)
    first = next((f"; first: {r.first_strategy_error}" for r in failed if r.first_strategy_error), "")
    return (
        f"strategy errors in {len(failed)} of {len(results)} policies (most: {most.policy}, "
        f"{most.strategy_errors:,}{first}): their figures are of a strategy that failed on those calls "
        "(summary.json counts them, the log has each)"
    )


def compare_csv(results: list[PolicyResult]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(row(result) for result in results)
    return buffer.getvalue()


def compare_html(results: list[PolicyResult], settings: RunSettings | None = None) -> str:
    """The table of the policies, the strategies every run had (``settings``) and a link to each report."""
    errors = _any_errors(results)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in shown_headers(results))
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in shown_row(result, errors)) + "</tr>"
        for result in results
    )
    note = errors_note(results)
    warning = f"<p><strong>warning:</strong> {html.escape(note)}</p>" if note else ""
    links = "".join(f'<li><a href="{r.policy}/report.html">{html.escape(r.policy)}</a></li>' for r in results)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>maemae policy comparison</title>'
        "<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
        "th,td{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:right}</style></head><body>"
        "<h1>Overtrading policies compared</h1>"
        f"{strategies_html(settings) if settings is not None else ''}"
        f"<h2>Results</h2><table><tr>{head}</tr>{body}</table>{warning}"
        f"<h2>Reports</h2><ul>{links}</ul></body></html>\n"
    )
