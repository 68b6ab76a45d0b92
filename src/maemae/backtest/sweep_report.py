"""The sweep's outputs: ``trials.parquet`` and ``trials.csv`` (one row per trial), ``walk_forward.csv``, and
a self-contained ``sweep.html``: a heat map of the metric over the first two parameters, the top ten trials,
the metric's distribution, and the walk-forward splits with their train and test results side by side."""

from __future__ import annotations

import html
import io
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from maemae.backtest.metrics import NOT_AVAILABLE
from maemae.backtest.outputs import failed_write, publish, staged
from maemae.backtest.sweep import SweepResult

TOP = 10
STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1d2430}table{border-collapse:collapse;"
    "font-size:.85rem;margin:.5rem 0}th,td{border:1px solid #d6dbe3;padding:.25rem .5rem;text-align:right}"
    "th{background:#f3f5f8}"
)


SWEEP_FILES = ("trials.parquet", "trials.csv", "walk_forward.csv", "sweep.html")
WHAT = "the sweep's outputs"  # in the line for outputs that could not be written
# a process id means nothing once the sweep is over (and repeats across a cluster's machines); a trial's
# wall time and its worker's peak memory stay in the tables, to size the next sweep
_NOT_WRITTEN = ["worker_pid"]


def sweep_into(
    out_dir: Path, option: str, run: Callable[[], SweepResult], given: Path | None = None
) -> SweepResult:
    """Run the sweep (``run``) and write its four outputs to ``out_dir`` as one set: each whole, and all new
    or all as they were. ``option`` names where the folder came from (``--out``, ``backtest.out_dir``),
    ``given`` its value when ``out_dir`` is the ``sweep`` folder made in it (``outputs.open_staging``).

    As ``backtest`` and ``compare`` do (``outputs.staged``), the folder is checked and a staging folder made
    in it before the trials run, so an unusable ``--out`` is one line (exit 2) at once, not after every
    trial; the outputs are written there and moved into place only once all four are complete. A sweep
    refused for its grid, dates or walk-forward windows, stopped by a trial's error or by Ctrl-C, removes
    the folders it made: a refusal leaves no trace of its ``--out``."""
    with staged(out_dir, option, SWEEP_FILES, given) as staging:
        result = run()
        _write_staged(result, staging, out_dir, option, given)
        publish(staging, out_dir, option, SWEEP_FILES, WHAT, given)
    return result


# the CSVs' floats to six decimals, as summary.json's: a binary float's noise (-0.18837537999999998) reads
# as a figure to the last digit; trials.parquet keeps them whole
CSV_DECIMALS = 6


def _write_staged(result: SweepResult, staging: Path, out_dir: Path, option: str, given: Path | None) -> None:
    """The four outputs in ``staging``. A write that fails (a full disk) is one line, exit 1: the folder
    passed its check before the trials, so the machine, not an option, is the cause."""
    table = result.table.drop(columns=_NOT_WRITTEN, errors="ignore")
    parquet = io.BytesIO()  # in memory first: a full disk is then an OSError of the write, as for the others
    table.to_parquet(parquet, index=False)
    contents = (
        parquet.getvalue(),
        table.round(CSV_DECIMALS).to_csv(index=False).encode("utf-8"),
        result.walk_forward.round(CSV_DECIMALS).to_csv(index=False).encode("utf-8"),
        render_sweep(result).encode("utf-8"),
    )
    try:
        for name, data in zip(SWEEP_FILES, contents, strict=True):
            (staging / name).write_bytes(data)
    except OSError as error:
        raise failed_write(out_dir, option, error, what=WHAT, given=given) from None


def render_sweep(result: SweepResult) -> str:
    metric = result.spec.metric
    full = result.table[result.table["phase"] == "full"]
    params = [f"param.{key}" for key in result.spec.grid]
    sections = [
        f"<h1>maemae sweep</h1><p>{len(full)} parameter set(s), metric <b>{html.escape(metric)}</b>, backend "
        f"{html.escape(result.backend)}, {result.seconds:.1f} s</p>",
        _heat_map(full, params, metric),
        "<h2>Top trials</h2>"
        + _table(
            full.sort_values([metric, "trial"], ascending=[False, True]).head(TOP), [*params, *_metrics(full)]
        ),
        "<h2>Distribution of "
        + html.escape(metric)
        + "</h2>"
        + _histogram(full[metric].to_numpy(dtype=float)),
    ]
    if len(result.walk_forward):
        sections.append(
            "<h2>Walk-forward (out of sample)</h2><p>Each split chooses the best set on its train window and "
            "runs it alone on the next window: compare the two columns.</p>"
            + _table(result.walk_forward, list(result.walk_forward.columns))
        )
    head = f"<meta charset='utf-8'><title>maemae sweep</title><style>{STYLE}</style>"
    return f"<!doctype html><html><head>{head}</head><body>{''.join(sections)}</body></html>"


def _metrics(frame: pd.DataFrame) -> list[str]:
    return [
        c
        for c in ("total_return", "sharpe", "max_drawdown", "n_trades", "win_rate", "turnover")
        if c in frame
    ]


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float | np.floating) and math.isnan(value)):
        return NOT_AVAILABLE  # a win rate with no sell (None, or NaN once in a float column)
    if isinstance(value, float | np.floating):
        return f"{value:.4g}"
    return html.escape(str(value))


def _table(frame: pd.DataFrame, columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c.removeprefix('param.'))}</th>" for c in columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{_cell(row[c])}</td>" for c in columns) + "</tr>"
        for _, row in frame.iterrows()
    )
    return f"<table><tr>{head}</tr>{rows}</table>"


def _heat_map(full: pd.DataFrame, params: list[str], metric: str) -> str:
    if len(params) < 2:
        return ""
    x, y = params[0], params[1]
    pivot = full.pivot_table(index=y, columns=x, values=metric, aggfunc="mean")
    values = pivot.to_numpy(dtype=float)
    lo, hi = np.nanmin(values), np.nanmax(values)
    span = hi - lo or 1.0
    head = "".join(f"<th>{_cell(c)}</th>" for c in pivot.columns)
    rows = []
    for label, row in zip(pivot.index, values, strict=True):
        cells = []
        for value in row:
            if np.isnan(value):
                cells.append("<td></td>")
                continue
            share = (value - lo) / span  # 0 (worst) .. 1 (best): red to green
            colour = f"hsl({int(share * 120)},60%,80%)"
            cells.append(f"<td style='background:{colour}'>{value:.4g}</td>")
        rows.append(f"<tr><th>{_cell(label)}</th>{''.join(cells)}</tr>")
    title = f"{metric} by {x.removeprefix('param.')} (columns) and {y.removeprefix('param.')} (rows)"
    note = " (mean over the other parameters)" if len(params) > 2 else ""
    return f"<h2>{html.escape(title)}{note}</h2><table><tr><th></th>{head}</tr>{''.join(rows)}</table>"


def _histogram(values: np.ndarray, bins: int = 12) -> str:
    values = values[np.isfinite(values)]
    if not len(values):
        return "<p>no values</p>"
    counts, edges = np.histogram(values, bins=min(bins, max(len(values), 1)))
    top = counts.max() or 1
    bars = []
    width = 400 / len(counts)
    for i, count in enumerate(counts):
        height = 120 * count / top
        box = f"x='{i * width:.1f}' y='{130 - height:.1f}' width='{width - 2:.1f}' height='{height:.1f}'"
        label = f"{edges[i]:.4g} .. {edges[i + 1]:.4g}: {count}"
        bars.append(f"<rect {box} fill='#1f6feb'><title>{label}</title></rect>")
    svg = f"<svg width='420' height='140' role='img'>{''.join(bars)}</svg>"
    return f"{svg}<p>{edges[0]:.4g} .. {edges[-1]:.4g}</p>"
