"""``maemae sweep``: many backtests over a grid (or a random sample) of parameters, on every core or on a
Dask cluster, with walk-forward validation.

A **trial** is one full engine backtest of the config with some dotted keys changed
(``strategies.daily.params.short = 5``, ``risk.stop_loss.pct = 3``, ``risk.cooldown.enabled = true`` ...).
Trials are grouped by date window; each worker loads a window's market once (from the Parquet store, which
the operating system shares between processes through its page cache) and keeps it for the trials that
follow, so a task costs a backtest, not a load.

**Walk-forward** (``[walk_forward] windows = N``): the trading days are cut into N consecutive windows; for
each k, every parameter set is run on window k (train), the best by the metric is chosen, and that set alone
is run on window k+1 (test). The test results are reported apart: a set that only looks good in-sample shows
up as a gap between the two.

Backends (docs/architecture.md says why Dask): ``local`` runs a process pool on the machine's cores;
``cluster`` submits the same task function to a Dask scheduler (``dask scheduler`` and ``dask worker``
processes on any machines); a worker that dies has its tasks run again elsewhere, and results are keyed by
trial, so none is lost or counted twice.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import random
import time
import tomllib
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from maemae.backtest.market import BacktestMarket
from maemae.backtest.service import load_market, run_backtest
from maemae.config import MaemaeConfig, parse_config
from maemae.errors import ConfigError
from maemae.logs import configure_logging
from maemae.memory import peak_rss_mib

METRICS = (
    "total_return",
    "sharpe",
    "max_drawdown",
    "cagr",
    "win_rate",
    "n_trades",
    "turnover",
    "final_equity",
)
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class SweepSpec:
    """What the grid file asks for (docs/backtest.md: the sweep file)."""

    grid: dict[str, list[Any]]
    mode: str = "grid"  # grid: every combination; random: ``samples`` of them
    samples: int = 20
    seed: int = 1
    metric: str = "sharpe"
    windows: int = 0  # walk-forward windows (0: none)

    def parameter_sets(self) -> list[dict[str, Any]]:
        keys = list(self.grid)
        every = [dict(zip(keys, values, strict=True)) for values in itertools.product(*self.grid.values())]
        if self.mode == "random" and self.samples < len(every):
            return random.Random(self.seed).sample(every, self.samples)
        return every


@dataclass(frozen=True, slots=True)
class Trial:
    trial_id: int
    params: dict[str, Any]
    start: date
    end: date
    phase: str  # "full", "train k" or "test k"


@dataclass(slots=True)
class SweepResult:
    table: pd.DataFrame  # one row per trial: its id, phase, window, parameters and metrics
    walk_forward: pd.DataFrame  # one row per split: the chosen set, its train and test metric
    spec: SweepSpec
    backend: str
    seconds: float = 0.0
    files: list[Path] = field(default_factory=list)


def read_spec(path: Path) -> SweepSpec:
    """The sweep file: ``[grid]`` of dotted keys to lists, ``[search]`` and ``[walk_forward]``."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"--grid {path}: no such file") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"--grid {path}: not valid TOML ({error})") from None
    grid = document.get("grid")
    if not isinstance(grid, dict) or not grid:
        raise ConfigError(
            f"--grid {path}: [grid] is missing or empty: expected dotted keys with lists of values"
        )
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"--grid {path}: grid.{key} = {values!r}: expected a non-empty list of values")
    search = document.get("search", {})
    walk = document.get("walk_forward", {})
    spec = SweepSpec(
        {str(k): list(v) for k, v in grid.items()},
        mode=str(search.get("mode", "grid")),
        samples=int(search.get("samples", 20)),
        seed=int(search.get("seed", 1)),
        metric=str(search.get("metric", "sharpe")),
        windows=int(walk.get("windows", 0)),
    )
    if spec.mode not in ("grid", "random"):
        raise ConfigError(f"--grid {path}: search.mode = {spec.mode!r}: expected grid or random")
    if spec.metric not in METRICS:
        raise ConfigError(
            f"--grid {path}: search.metric = {spec.metric!r}: expected one of {', '.join(METRICS)}"
        )
    if spec.windows == 1 or spec.windows < 0:
        raise ConfigError(
            f"--grid {path}: walk_forward.windows = {spec.windows}: expected 0 (none) or 2 and more"
        )
    return spec


def with_params(config: MaemaeConfig, params: dict[str, Any]) -> MaemaeConfig:
    """``config`` with dotted keys replaced, validated as a whole (a bad value names its key). Keys must
    exist, except inside a strategy's free-form ``params``."""
    tree = config.model_dump(mode="json", by_alias=True)
    for key, value in params.items():
        node: Any = tree
        *parents, leaf = key.split(".")
        for part in parents:
            if not isinstance(node, dict) or part not in node:
                raise ConfigError(f"grid.{key}: no such setting in the config")
            node = node[part]
        free_form = bool(parents) and parents[-1] == "params"
        if not isinstance(node, dict) or (leaf not in node and not free_form):
            raise ConfigError(f"grid.{key}: no such setting in the config")
        node[leaf] = value
    try:
        return parse_config(tree, "grid")
    except ConfigError as error:
        raise ConfigError(str(error).splitlines()[0]) from None


# ----- the task every backend runs (module level: processes and Dask workers import it)
# where and at what cost a trial ran, not what it found: the report leaves them out of its tables
RUN_COLUMNS = ["worker_pid", "worker_peak_rss_mib", "seconds"]
_LOADED: dict[tuple[str, str, date, date], tuple[BacktestMarket, list[date]]] = {}


def _clean_context() -> multiprocessing.context.BaseContext:
    """Workers that start clean: their memory is their own trials' whatever the parent holds, and no thread
    of the parent is copied half-way. A fork server with maemae preloaded where there is one (POSIX): each
    worker is then a fork of a small process, started in a fraction of a second; spawn elsewhere."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["maemae.backtest.sweep"])
    return context


def start_worker(config_json: dict[str, Any]) -> None:
    """A worker process logs as the sweep's config says (the JSON file, and the console if enabled)."""
    configure_logging(parse_config(config_json, "sweep").logging)


def run_trial(config_json: dict[str, Any], trial: Trial) -> dict[str, Any]:
    """One backtest of ``trial``; the window's market is loaded once per process and kept."""
    started = time.perf_counter()
    base = parse_config(config_json, "sweep")
    config = with_params(base, trial.params)
    key = (str(config.data.root), config.backtest.bars, trial.start, trial.end)
    if key not in _LOADED:
        _LOADED.clear()  # one window at a time: memory stays bounded by one market
        _LOADED[key] = load_market(config, trial.start, trial.end, backtest=True)
    result = run_backtest(config, loaded=_LOADED[key])
    metrics = result.metrics
    return {
        "trial": trial.trial_id,
        "phase": trial.phase,
        "start": trial.start.isoformat(),
        "end": trial.end.isoformat(),
        **{f"param.{k}": v for k, v in trial.params.items()},
        **{name: getattr(metrics, name) for name in METRICS},
        "worker_pid": os.getpid(),
        "worker_peak_rss_mib": round(peak_rss_mib(), 1),
        "seconds": round(time.perf_counter() - started, 3),
    }


class Backend(Protocol):
    """Runs trials; returns their rows in any order (callers key them by trial id)."""

    name: str

    def run(
        self, config_json: dict[str, Any], trials: Sequence[Trial], progress: Progress | None
    ) -> list[dict[str, Any]]: ...


class LocalBackend:
    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1

    def run(
        self, config_json: dict[str, Any], trials: Sequence[Trial], progress: Progress | None
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        if self.workers == 1:
            for trial in trials:
                rows.append(run_trial(config_json, trial))
                if progress:
                    progress(len(rows), len(trials))
            return rows
        context = _clean_context()
        with ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=start_worker, initargs=(config_json,)
        ) as pool:
            futures: list[Future[dict[str, Any]]] = [pool.submit(run_trial, config_json, t) for t in trials]
            for future in as_completed(futures):
                rows.append(future.result())
                if progress:
                    progress(len(rows), len(trials))
        return rows


class DaskBackend:
    """The same tasks on a Dask cluster (``--cluster tcp://HOST:8786``)."""

    name = "cluster"

    def __init__(self, address: str) -> None:
        self.address = address

    def run(
        self, config_json: dict[str, Any], trials: Sequence[Trial], progress: Progress | None
    ) -> list[dict[str, Any]]:
        from distributed import Client
        from distributed import as_completed as dask_completed

        try:
            client = Client(self.address, timeout=20)  # type: ignore[no-untyped-call]
        except OSError as error:
            raise ConfigError(f"--cluster {self.address}: no Dask scheduler answers ({error})") from None
        try:
            futures = [
                client.submit(
                    run_trial,
                    config_json,
                    trial,
                    key=f"maemae-trial-{trial.trial_id}-{trial.phase}",
                    retries=2,
                )
                for trial in trials
            ]
            rows: dict[tuple[int, str], dict[str, Any]] = {}
            for future in dask_completed(futures):  # type: ignore[no-untyped-call]
                row = future.result()
                rows[(row["trial"], row["phase"])] = row  # a re-run after a lost worker replaces, never adds
                if progress:
                    progress(len(rows), len(trials))
            return list(rows.values())
        finally:
            client.close()  # type: ignore[no-untyped-call]


def windows_of(days: list[date], count: int) -> list[tuple[date, date]]:
    """``count`` consecutive windows of (nearly) equal numbers of trading days."""
    size = len(days) // count
    if size < 2:
        raise ConfigError(f"walk_forward.windows = {count}: {len(days)} trading days are too few")
    return [(days[i * size], days[(i + 1) * size - 1] if i < count - 1 else days[-1]) for i in range(count)]


def sweep(
    config: MaemaeConfig,
    spec: SweepSpec,
    backend: Backend,
    *,
    start: date | None = None,
    end: date | None = None,
    progress: Progress | None = None,
) -> SweepResult:
    """Every parameter set over the whole range, then the walk-forward splits if asked."""
    import time

    started = time.perf_counter()
    sets = spec.parameter_sets()
    for params in sets:
        with_params(config, params)  # a bad key or value is refused before any work
    _, days = load_market(config, start, end, backtest=True)
    config_json = config.model_dump(mode="json", by_alias=True)
    trials = [Trial(i, params, days[0], days[-1], "full") for i, params in enumerate(sets)]
    windows = windows_of(days, spec.windows) if spec.windows else []
    trials += [
        Trial(i, params, first, last, f"train {k}")
        for k, (first, last) in enumerate(windows[:-1])
        for i, params in enumerate(sets)
    ]
    rows = backend.run(config_json, trials, progress)
    table = pd.DataFrame(rows).sort_values(["phase", "trial"], ignore_index=True)
    walk = _walk_forward(config_json, spec, sets, windows, table, backend, progress)
    if len(walk):
        table = pd.concat([table, walk.attrs.pop("test_rows")], ignore_index=True)
    return SweepResult(table, walk, spec, backend.name, time.perf_counter() - started)


def _walk_forward(
    config_json: dict[str, Any],
    spec: SweepSpec,
    sets: list[dict[str, Any]],
    windows: list[tuple[date, date]],
    table: pd.DataFrame,
    backend: Backend,
    progress: Progress | None,
) -> pd.DataFrame:
    if not windows:
        return pd.DataFrame()
    chosen: list[tuple[int, int]] = []  # (split, trial)
    for k in range(len(windows) - 1):
        train = table[table["phase"] == f"train {k}"]
        # higher is better for every metric (a drawdown is negative: the one closest to zero wins); ties go
        # to the lower trial
        best = train.sort_values([spec.metric, "trial"], ascending=[False, True]).iloc[0]
        chosen.append((k, int(best["trial"])))
    tests = [
        Trial(trial, sets[trial], windows[k + 1][0], windows[k + 1][1], f"test {k}") for k, trial in chosen
    ]
    rows = pd.DataFrame(backend.run(config_json, tests, progress)).sort_values("phase", ignore_index=True)
    split_rows = []
    for k, trial in chosen:
        trained = table[(table["phase"] == f"train {k}") & (table["trial"] == trial)].iloc[0]
        tested = rows[rows["phase"] == f"test {k}"].iloc[0]
        split_rows.append(
            {
                "split": k,
                "train": f"{windows[k][0]}..{windows[k][1]}",
                "test": f"{windows[k + 1][0]}..{windows[k + 1][1]}",
                "trial": trial,
                **{f"param.{key}": value for key, value in sets[trial].items()},
                f"train {spec.metric}": trained[spec.metric],
                f"test {spec.metric}": tested[spec.metric],
                "train total_return": trained["total_return"],
                "test total_return": tested["total_return"],
            }
        )
    result = pd.DataFrame(split_rows)
    result.attrs["test_rows"] = rows
    return result
