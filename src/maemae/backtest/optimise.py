"""Optuna search for ``maemae sweep`` (``[search] mode = "optuna"``): each parameter set is chosen from the
results so far (Optuna's TPE sampler), not from a fixed list.

The grid's lists are the search space (each key a categorical choice). Trials run in batches of the
backend's parallelism through the same task as a grid sweep, so every trial is a full engine backtest on the
local processes or the Dask cluster alike; a batch's sets are asked for together, with Optuna's "constant
liar" so that one batch does not propose the same set over and over. With a seed and the same parallelism a
study proposes the same sets again.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

Params = dict[str, Any]
Rows = list[dict[str, Any]]
RunBatch = Callable[[list[tuple[int, Params]]], Rows]  # (trial number, set) pairs -> rows with "trial"


def optimise(
    grid: dict[str, list[Any]],
    *,
    samples: int,
    seed: int,
    metric: str,
    parallelism: int,
    run_batch: RunBatch,
) -> Rows:
    """One study of ``samples`` trials, the best ``metric`` wanted; every trial's row, in trial order."""
    import optuna
    from optuna.distributions import BaseDistribution, CategoricalDistribution
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=seed, constant_liar=True)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    space: dict[str, BaseDistribution] = {
        key: CategoricalDistribution(values) for key, values in grid.items()
    }
    rows: Rows = []
    while len(rows) < samples:
        asked = [study.ask(space) for _ in range(min(parallelism, samples - len(rows)))]
        done = {row["trial"]: row for row in run_batch([(t.number, dict(t.params)) for t in asked])}
        for trial in asked:
            row = done[trial.number]
            value = row[metric]
            if value is not None and math.isfinite(value):
                study.tell(trial, float(value))
            else:  # no sell, no win rate: a failure to the sampler, and still a row in the table
                study.tell(trial, state=TrialState.FAIL)
            rows.append(row)
    return rows
