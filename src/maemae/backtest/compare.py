"""``maemae compare``: the same strategy and data under each overtrading policy, side by side (SPEC 1).

The policies build on each other, from none to the full set, so the table shows what each control adds:
none; one trade a day; cooldown; cooldown + stricter re-entry; + daily caps; + partial take-profit.
Stops and the portfolio stop stay as configured in every run, so only the overtrading controls differ.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from maemae.backtest.metrics import Metrics
from maemae.backtest.outputs import write_text_atomically
from maemae.backtest.service import run_backtest
from maemae.config import MaemaeConfig
from maemae.config.risk import RiskConfig
from maemae.errors import MaemaeError


@dataclass(frozen=True, slots=True)
class PolicyResult:
    policy: str
    metrics: Metrics


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

COLUMNS = ("policy", "total_return", "max_drawdown", "sharpe", "n_trades", "turnover", "costs", "win_rate")


def compare_policies(
    config: MaemaeConfig,
    *,
    start: date | None = None,
    end: date | None = None,
    out_dir: Path | None = None,
    on_policy: Callable[[str], None] | None = None,
    out_option: str = "out_dir",
) -> list[PolicyResult]:
    """Each policy's backtest, its outputs in a folder of ``out_dir`` named after it, and the table of all
    in ``compare.csv`` and ``compare.html``; ``out_option`` names where ``out_dir`` came from in an error
    line."""
    results = []
    for name, switches in POLICIES.items():
        if on_policy:
            on_policy(name)
        policy_config = config.model_copy(update={"risk": _switch(config.risk, **switches)})
        target = out_dir / name if out_dir else None
        result = run_backtest(
            policy_config,
            start=start,
            end=end,
            out_dir=target,
            title=f"maemae policy: {name}",
            out_option=out_option,
        )
        results.append(PolicyResult(name, result.metrics))
    if out_dir is not None:
        try:  # each file whole or not at all; a failure after the runs is the machine's (exit 1), one line
            out_dir.mkdir(parents=True, exist_ok=True)
            write_text_atomically(out_dir / "compare.csv", compare_csv(results))
            write_text_atomically(out_dir / "compare.html", compare_html(results))
        except OSError as error:
            raise MaemaeError(
                f"{out_option} {str(out_dir)!r}: could not write the comparison table "
                f"({error.strerror or error}); compare.csv and compare.html are each the old file or the new"
            ) from None
    return results


def row(result: PolicyResult) -> tuple[str, ...]:
    m = result.metrics
    return (
        result.policy,
        f"{m.total_return:.4f}",
        f"{m.max_drawdown:.4f}",
        f"{m.sharpe:.3f}",
        str(m.n_trades),
        f"{m.turnover:.2f}",
        str(m.commission + m.tax),
        f"{m.win_rate:.3f}",
    )


def compare_csv(results: list[PolicyResult]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(row(result) for result in results)
    return buffer.getvalue()


def compare_html(results: list[PolicyResult]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row(result)) + "</tr>"
        for result in results
    )
    links = "".join(f'<li><a href="{r.policy}/report.html">{html.escape(r.policy)}</a></li>' for r in results)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>maemae policy comparison</title>'
        "<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
        "th,td{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:right}</style></head><body>"
        f"<h1>Overtrading policies compared</h1><table><tr>{head}</tr>{body}</table>"
        f"<h2>Reports</h2><ul>{links}</ul></body></html>\n"
    )
