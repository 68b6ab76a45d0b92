"""``maemae sweep``: many backtests over a grid (a random sample of it, or an Optuna study in its space) of
parameters, on every core or on a Dask cluster, with walk-forward validation.

A **trial** is one full engine backtest of the config with some dotted keys changed
(``strategies.daily.params.short = 5``, ``risk.stop_loss.pct = 3``, ``risk.cooldown.enabled = true`` ...).
Trials are grouped by date window; each worker loads a window's market once (from the Parquet store, which
the operating system shares between processes through its page cache) and keeps it for the trials that
follow, so a task costs a backtest, not a load.

**Walk-forward** (``[walk_forward] windows = N``): the trading days are cut into N consecutive windows; for
each k, every parameter set is run on window k (train; with Optuna, a study of its own), the best by the
metric is chosen, and that set alone is run on window k+1 (test). The test results are reported apart: a
set that only looks good in-sample shows up as a gap between the two.

Backends (``sweep_backends.py``; docs/architecture.md says why Dask): ``local`` runs a process pool on the
machine's cores; ``cluster`` submits the same task function to a Dask scheduler (``dask scheduler`` and
``dask worker`` processes on any machines); a worker that dies has its tasks run again elsewhere, and
results are keyed by trial, so none is lost or counted twice.
"""

from __future__ import annotations

import itertools
import random
import time
import tomllib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol, get_args

import pandas as pd
from pydantic import BeforeValidator, Field, StrictInt, ValidationError, field_validator

from maemae.backtest.optimise import RunBatch, optimise
from maemae.backtest.service import load_market
from maemae.config import MaemaeConfig, parse_config
from maemae.config.base import Section
from maemae.config.loader import format_problems
from maemae.engine.composition import load_strategies
from maemae.errors import ConfigError
from maemae.strategy.loader import StrategyLoadError
from maemae.text_files import read_utf8

Metric = Literal[
    "total_return",
    "sharpe",
    "max_drawdown",
    "cagr",
    "win_rate",
    "n_trades",
    "turnover",
    "final_equity",
]
METRICS: tuple[str, ...] = get_args(Metric)
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class SweepSpec:
    """What the grid file asks for (docs/backtest.md: the sweep file)."""

    grid: dict[str, list[Any]]
    mode: str = "grid"  # grid: every combination; random: ``samples`` of them; optuna: a study of ``samples``
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


class _Search(Section):
    """``[search]``: how the parameter sets are chosen and judged. Integers are strict, so ``samples = 1.9``
    or ``"10"`` is refused rather than truncated or guessed."""

    mode: Literal["grid", "random", "optuna"] = "grid"
    samples: Annotated[StrictInt, Field(ge=1)] = 20
    seed: StrictInt = 1
    metric: Metric = "sharpe"


class _WalkForward(Section):
    """``[walk_forward]``: one window cannot be both trained and tested on, so 1 is refused."""

    windows: StrictInt = 0

    @field_validator("windows")
    @classmethod
    def _none_or_two_and_more(cls, windows: int) -> int:
        if windows == 1 or windows < 0:
            raise ValueError("expected 0 (none) or 2 and more")
        return windows


def _grid_values(values: Any) -> list[Any]:
    """A grid key's values: a list to choose from, never a single value (which would vary nothing)."""
    if not isinstance(values, list) or not values:
        raise ValueError("expected a non-empty list of values")
    return values


class _SpecFile(Section):
    """The sweep file as a whole: unknown sections and keys are errors, as in the main config, so a typo
    (``metrc``, ``[walk_forwrd]``) is refused instead of leaving a default in its place."""

    grid: dict[str, Annotated[list[Any], BeforeValidator(_grid_values)]]
    search: _Search = _Search()
    walk_forward: _WalkForward = _WalkForward()

    @field_validator("grid")
    @classmethod
    def _not_empty(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        if not grid:
            raise ValueError("expected dotted keys with lists of values")
        return grid


def read_spec(path: Path) -> SweepSpec:
    """The sweep file: ``[grid]`` of dotted keys to lists, ``[search]`` and ``[walk_forward]``; its first
    problem as one line naming the key, the value and what was expected."""
    source = f"--grid {path}"
    try:
        document = tomllib.loads(read_utf8(path, ConfigError))
    except FileNotFoundError:
        raise ConfigError(f"{source}: no such file") from None
    except OSError as error:
        raise ConfigError(f"{source}: cannot read the file ({error})") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: not valid TOML ({error})") from None
    try:
        spec = _SpecFile.model_validate(document)
    except ValidationError as error:
        raise ConfigError(_first_problem(source, error)) from None
    search = spec.search
    return SweepSpec(
        {str(key): list(values) for key, values in spec.grid.items()},
        mode=search.mode,
        samples=search.samples,
        seed=search.seed,
        metric=search.metric,
        windows=spec.walk_forward.windows,
    )


def _first_problem(source: str, error: ValidationError) -> str:
    """The first problem in the config's wording (``format_problems``), an unknown key with the keys its
    section allows: the config's own list of allowed keys is of the main config, not of this file."""
    problem = error.errors()[0]
    if problem["type"] != "extra_forbidden":
        return format_problems(source, error)[0]
    *parents, key = (str(part) for part in problem["loc"])
    section = _SpecFile.model_fields[parents[0]].annotation if parents else _SpecFile
    allowed = ", ".join(getattr(section, "model_fields", {}))
    where = ".".join([*parents, key])
    value = "{...}" if isinstance(problem["input"], dict) else repr(problem["input"])
    kind = "key" if parents else "section"
    return f"{source}: {where} = {value}: unknown {kind} (allowed: {allowed})"


# what a trial's backtest trades by: the rest (its dates, which are the sweep's --start/--end and windows;
# where outputs, the state store or alerts go; how bars are held in memory) leaves its result as it is
VARIED = ("strategies.", "risk.", "execution.", "universe.", "costs.", "broker.sim.", "data.")
VARIED_KEYS = ("backtest.initial_cash", "backtest.bars")


# why a key outside VARIED is the same in every trial, by key or section: the refusal's reason must fit the
# key (a folder refused "because its dates are the sweep's" sent the user looking for dates)
_FIXED = {
    "backtest.start": "its dates are the sweep's --start/--end and walk-forward windows",
    "backtest.end": "its dates are the sweep's --start/--end and walk-forward windows",
    "backtest.out_dir": "a trial writes no files: the sweep's go to its --out",
    "backtest": "it changes how a trial reads or visits its bars, not its result",
    "calendar": "the sweep loads the market and its sessions once, for every trial",
    "mode": "every trial is a backtest",
}


def _why_fixed(key: str) -> str:
    """The reason ``key`` is the same in every trial: its own, else its section's, else that the rest (the
    state store, alerts, reports, the dashboard, logging) is not used by a trial's result."""
    section = key.split(".")[0]
    return _FIXED.get(key) or _FIXED.get(section) or f"{section} leaves a trial's result as it is"


def with_params(config: MaemaeConfig, params: dict[str, Any]) -> MaemaeConfig:
    """``config`` with dotted keys replaced, validated as a whole (a bad value names its key). Keys must
    exist, except inside a strategy's free-form ``params``, and be ones a trial can vary (``VARIED``): a
    trial of another (``backtest.end``) ran as the others did, and the winner was named by it."""
    tree = config.model_dump(mode="json", by_alias=True)
    for key, value in params.items():
        if not key.startswith(VARIED) and key not in VARIED_KEYS:
            raise ConfigError(
                f"grid.{key}: a trial cannot vary it ({_why_fixed(key)}): expected a key under strategies, "
                "risk, execution, universe, costs, broker.sim or data, or backtest.initial_cash or "
                "backtest.bars"
            )
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


# where and at what cost a trial ran, not what it found: they differ between two runs of the same sweep
RUN_COLUMNS = ["worker_pid", "worker_peak_rss_mib", "seconds"]


class Backend(Protocol):
    """Runs trials; returns their rows in any order (callers key them by trial id)."""

    name: str
    parallelism: int  # trials it runs at once: an Optuna study asks for this many sets per batch

    def run(
        self, config_json: dict[str, Any], trials: Sequence[Trial], progress: Progress | None
    ) -> list[dict[str, Any]]: ...


def windows_of(days: list[date], count: int) -> list[tuple[date, date]]:
    """``count`` consecutive windows of (nearly) equal numbers of trading days."""
    size = len(days) // count
    if size < 2:
        raise ConfigError(
            f"walk_forward.windows = {count}: {len(days)} trading days are too few; expected at least "
            f"{2 * count} (2 a window)"
        )
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
    """Every parameter set (or an Optuna study) over the whole range, then the walk-forward splits. The
    grid's values, the range and the walk-forward windows are checked before the first trial runs, so a
    refusal costs no work (an Optuna set's strategies only by its trial: the set is not known before)."""

    started = time.perf_counter()
    _check_values(config, spec)
    _, days = load_market(config, start, end, backtest=True)  # it checks the range, as for a backtest
    config_json = config.model_dump(mode="json", by_alias=True)
    windows = windows_of(days, spec.windows) if spec.windows else []
    ranges = [("full", days[0], days[-1])]
    ranges += [(f"train {k}", first, last) for k, (first, last) in enumerate(windows[:-1])]
    if spec.mode == "optuna":  # a set is only known once asked for: a trial is the first to load it
        with _named_grid():
            rows = _search(config_json, spec, backend, ranges, progress)
    else:  # every set's strategies were loaded before: a trial's failure to load one is the worker's
        rows = _search(config_json, spec, backend, ranges, progress)
    params_of = {(row["phase"], row["trial"]): _params_of(row) for row in rows}
    table = pd.DataFrame(rows).sort_values(["phase", "trial"], ignore_index=True)
    walk = _walk_forward(config_json, spec, params_of, windows, table, backend, progress)
    if len(walk):
        table = pd.concat([table, walk.attrs.pop("test_rows")], ignore_index=True)
    return SweepResult(table, walk, spec, backend.name, time.perf_counter() - started)


def _check_values(config: MaemaeConfig, spec: SweepSpec) -> None:
    """Refuse a bad key or value before any work: every set of a grid, its strategies loaded too (a rule
    across their parameters, ``short`` below ``long``, holds only for a whole set); each value of an Optuna
    space alone (its product may be too large to list, and one value may need another's company)."""
    if spec.mode == "optuna":
        for key, values in spec.grid.items():
            for value in values:
                with_params(config, {key: value})
        return
    for params in spec.parameter_sets():
        with _named_grid():
            load_strategies(with_params(config, params))


@contextmanager
def _named_grid() -> Iterator[None]:
    """A strategy the grid's values make unloadable is refused after ``grid:``, as the grid's other values
    are (``with_params``): the loader's line names the strategy's table, which the config file did not set
    to that value (the config's own strategies are loaded before the sweep, named after its file)."""
    try:
        yield
    except StrategyLoadError as error:
        raise ConfigError(f"grid: {error}") from None


def _search(
    config_json: dict[str, Any],
    spec: SweepSpec,
    backend: Backend,
    ranges: list[tuple[str, date, date]],
    progress: Progress | None,
) -> list[dict[str, Any]]:
    """The rows of every trial on every (phase, first, last) range: the grid's sets in one batch of tasks, or
    one Optuna study per range."""
    if spec.mode != "optuna":
        sets = spec.parameter_sets()
        trials = [
            Trial(i, p, first, last, phase) for phase, first, last in ranges for i, p in enumerate(sets)
        ]
        return backend.run(config_json, trials, progress)
    done = [0, spec.samples * len(ranges)]  # trials run, trials in all studies
    if progress:
        progress(*done)

    def batch_runner(phase: str, first: date, last: date) -> RunBatch:
        def run_batch(batch: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
            rows = backend.run(config_json, [Trial(n, p, first, last, phase) for n, p in batch], None)
            done[0] += len(rows)
            if progress:
                progress(done[0], done[1])
            return rows

        return run_batch

    return [
        row
        for phase, first, last in ranges
        for row in optimise(
            spec.grid,
            samples=spec.samples,
            seed=spec.seed,
            metric=spec.metric,
            parallelism=backend.parallelism,
            run_batch=batch_runner(phase, first, last),
        )
    ]


def _params_of(row: dict[str, Any]) -> dict[str, Any]:
    return {key.removeprefix("param."): value for key, value in row.items() if key.startswith("param.")}


def _walk_forward(
    config_json: dict[str, Any],
    spec: SweepSpec,
    params_of: dict[tuple[str, int], dict[str, Any]],
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
        Trial(trial, params_of[(f"train {k}", trial)], windows[k + 1][0], windows[k + 1][1], f"test {k}")
        for k, trial in chosen
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
                **{f"param.{key}": value for key, value in params_of[(f"train {k}", trial)].items()},
                f"train {spec.metric}": trained[spec.metric],
                f"test {spec.metric}": tested[spec.metric],
                "train total_return": trained["total_return"],
                "test total_return": tested["total_return"],
            }
        )
    result = pd.DataFrame(split_rows)
    result.attrs["test_rows"] = rows
    return result
