"""``maemae sweep``: a grid of full backtests on local processes and on a real Dask cluster (a scheduler and
two workers as processes on 127.0.0.1), identical results either way, a killed worker losing and
duplicating nothing, and the walk-forward report."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from maemae.backtest.sweep import RUN_COLUMNS, SweepSpec, read_spec, sweep, with_params
from maemae.backtest.sweep_backends import DaskBackend, LocalBackend
from maemae.cli import main
from maemae.config import MaemaeConfig
from maemae.errors import ConfigError
from tests.backtest.conftest import make_config

SPEC = SweepSpec(
    {
        "strategies.daily.params.short": [3, 5],
        "strategies.daily.params.long": [10, 20],
        "risk.stop_loss.pct": [2, 5],
    },
    metric="total_return",
    windows=3,
)
KEY = ["phase", "trial"]


@pytest.fixture(scope="module")
def config(market_root: Path) -> MaemaeConfig:
    return make_config(market_root)


@pytest.fixture(scope="module")
def local(config: MaemaeConfig) -> pd.DataFrame:
    return _rows(sweep(config, SPEC, LocalBackend(workers=2)).table)


def _rows(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=RUN_COLUMNS).sort_values(KEY).reset_index(drop=True)


def test_sweep_when_run_on_local_processes_then_every_trial_once_and_same_as_one_process(
    config: MaemaeConfig, local: pd.DataFrame
) -> None:
    assert len(local[local.phase == "full"]) == 8
    assert len(local[local.phase.str.startswith("train")]) == 16  # 8 sets on each of the 2 train windows
    assert len(local[local.phase.str.startswith("test")]) == 2
    assert not local.duplicated(KEY).any()
    one = _rows(sweep(config, SPEC, LocalBackend(workers=1)).table)
    pd.testing.assert_frame_equal(local, one)


def test_walk_forward_when_reported_then_the_train_winner_is_run_alone_on_the_next_window(
    config: MaemaeConfig, local: pd.DataFrame
) -> None:
    result = sweep(config, SPEC, LocalBackend(workers=2))
    walk = result.walk_forward
    assert list(walk["split"]) == [0, 1]
    for _, split in walk.iterrows():
        train = local[local.phase == f"train {split['split']}"]
        best = train.sort_values(["total_return", "trial"], ascending=[False, True]).iloc[0]
        assert split["trial"] == best["trial"]
        test = local[(local.phase == f"test {split['split']}")].iloc[0]
        assert split["test total_return"] == test["total_return"]
        assert split["test"].split("..")[0] > split["train"].split("..")[1]  # out of sample: later days


OPTUNA = SweepSpec(
    {
        "strategies.daily.params.short": [2, 3, 4, 5],
        "strategies.daily.params.long": [8, 10, 15, 20],
        "risk.stop_loss.pct": [1, 2, 3, 5],
    },
    mode="optuna",
    samples=10,
    seed=4,
    metric="total_return",
    windows=2,
)


@pytest.mark.whole_day
def test_optuna_search_when_seeded_then_the_same_study_and_every_set_from_the_space(
    config: MaemaeConfig,
) -> None:
    first = sweep(config, OPTUNA, LocalBackend(workers=2))
    again = sweep(config, OPTUNA, LocalBackend(workers=2))
    table = _rows(first.table)
    pd.testing.assert_frame_equal(table, _rows(again.table))
    full = table[table.phase == "full"]
    assert list(full.trial) == list(range(10))  # ten trials, each run once
    for key, values in OPTUNA.grid.items():
        assert set(full[f"param.{key}"]) <= set(values)
    assert len(full.drop_duplicates([f"param.{k}" for k in OPTUNA.grid])) >= 6  # it explores, not repeats
    assert len(table[table.phase == "train 0"]) == 10  # the train window has a study of its own
    test = table[table.phase == "test 0"].iloc[0]
    train = table[table.phase == "train 0"]
    best = train.sort_values(["total_return", "trial"], ascending=[False, True]).iloc[0]
    assert test["trial"] == best["trial"]
    for key in OPTUNA.grid:  # the test runs the train winner's own set
        assert test[f"param.{key}"] == best[f"param.{key}"]


def test_random_search_when_seeded_then_the_same_distinct_sample() -> None:
    spec = SweepSpec({"a.b": list(range(10)), "a.c": list(range(10))}, mode="random", samples=7, seed=3)
    first, second = spec.parameter_sets(), spec.parameter_sets()
    assert first == second
    assert len({tuple(p.values()) for p in first}) == 7


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[search]\nmetric = 'sharpe'\n", "grid: required, but missing"),
        ("[grid]\n", "grid: expected dotted keys with lists of values"),
        ("[grid]\n'risk.stop_loss.pct' = 3\n", "grid.risk.stop_loss.pct = 3: expected a non-empty list"),
        (
            "[grid]\n'risk.stop_loss.pct' = [3]\n[search]\nmode = 'bayes'\n",
            "search.mode = 'bayes': expected one of 'grid', 'random' or 'optuna'",
        ),
        (
            "[grid]\n'risk.stop_loss.pct' = [3]\n[search]\nmetric = 'profit'\n",
            "search.metric = 'profit': expected one of",
        ),
        ("[grid]\n'risk.stop_loss.pct' = [3]\n[walk_forward]\nwindows = 1\n", "walk_forward.windows = 1"),
        (
            "[grid]\n'risk.stop_loss.pct' = [3]\n[search]\nsamples = 0\n",
            "search.samples = 0: expected a number >= 1",
        ),
        ("[grid\n", "not valid TOML"),
    ],
)
def test_sweep_file_when_wrong_then_one_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "grid.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(expected)):
        read_spec(path)


def test_parameters_when_unknown_or_invalid_then_refused_before_any_work(config: MaemaeConfig) -> None:
    with pytest.raises(ConfigError, match=r"grid\.risk\.nope: no such setting"):
        with_params(config, {"risk.nope": 1})
    with pytest.raises(ConfigError, match=r"risk\.stop_loss\.pct"):
        with_params(config, {"risk.stop_loss.pct": -1})
    assert with_params(config, {"strategies.daily.params.short": 4}).strategies.daily.params["short"] == 4


EXPECTED = (
    "expected a key under strategies, risk, execution, universe, costs, broker.sim or data, or "
    "backtest.initial_cash or backtest.bars"
)


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("backtest.end", "its dates are the sweep's --start/--end and walk-forward windows"),
        ("backtest.start", "its dates are the sweep's --start/--end and walk-forward windows"),
        ("backtest.out_dir", "a trial writes no files: the sweep's go to its --out"),
        ("backtest.every_bar", "it changes how a trial reads or visits its bars, not its result"),
        ("calendar.extra_closures", "the sweep loads the market and its sessions once, for every trial"),
        ("store.url", "store leaves a trial's result as it is"),
        ("mode", "every trial is a backtest"),
    ],
)
def test_parameters_when_a_trial_cannot_vary_the_key_then_refused_with_its_own_reason(
    config: MaemaeConfig, key: str, reason: str
) -> None:
    """Every trial ran the sweep's dates whatever ``backtest.end`` said, and the summary named the winner
    by it. The reason fits the key: a folder refused for "its dates" sent the user looking for dates."""
    with pytest.raises(ConfigError) as refused:
        with_params(config, {key: "2025-12-01"})
    assert str(refused.value) == f"grid.{key}: a trial cannot vary it ({reason}): {EXPECTED}"


# ----- a real Dask cluster on 127.0.0.1
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Cluster:
    def __init__(self, tmp_path: Path) -> None:
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        bin_dir = Path(sys.executable).parent
        common = {
            "stdout": subprocess.DEVNULL,
            "stderr": subprocess.DEVNULL,
            "start_new_session": True,
            "cwd": tmp_path,
        }
        self.scheduler = subprocess.Popen(
            [
                str(bin_dir / "dask"),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dashboard-address",
                ":0",
            ],
            **common,  # type: ignore[call-overload]
        )
        self.workers = [
            subprocess.Popen(
                [
                    str(bin_dir / "dask"),
                    "worker",
                    self.address,
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "1",
                    "--host",
                    "127.0.0.1",
                    "--dashboard-address",
                    ":0",
                    "--no-nanny",
                ],
                **common,  # type: ignore[call-overload]
            )
            for _ in range(2)
        ]
        self._wait_for_workers(2)

    def _wait_for_workers(self, count: int) -> None:
        from distributed import Client

        deadline = time.monotonic() + 60
        while True:
            try:
                with Client(self.address, timeout=5) as client:  # type: ignore[no-untyped-call]
                    client.wait_for_workers(count, timeout=60)  # type: ignore[no-untyped-call]
                    return
            except OSError:
                assert time.monotonic() < deadline, "the Dask cluster did not start"
                time.sleep(0.5)

    def kill_worker(self, index: int) -> None:
        os.killpg(self.workers[index].pid, signal.SIGKILL)

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(20)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    started = Cluster(tmp_path)
    yield started
    started.stop()


def test_cluster_when_a_worker_is_killed_mid_sweep_then_nothing_lost_or_doubled_and_same_as_local(
    config: MaemaeConfig, local: pd.DataFrame, cluster: Cluster
) -> None:
    done: list[int] = []
    killed = threading.Event()

    def progress(count: int, total: int) -> None:
        done.append(count)
        if count >= 3 and not killed.is_set():
            killed.set()
            cluster.kill_worker(0)  # the worker dies with trials in flight: the other one takes them

    result = sweep(config, SPEC, DaskBackend(cluster.address), progress=progress)
    assert killed.is_set()
    table = _rows(result.table)
    assert not table.duplicated(KEY).any()
    pd.testing.assert_frame_equal(table, local)
    assert result.backend == "cluster"


@pytest.mark.whole_day
def test_cli_sweep_when_run_then_files_and_summary_and_bad_options_refused(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = tmp_path / "c.toml"
    config_file.write_text(
        f'[data]\nroot = "{market_root}"\n[universe]\nsafe_asset_code = "357870"\nmax_stocks = 8\n'
        '[strategies.daily]\nclass = "sma_daily"\nparams = { short = 3, long = 10 }\n'
        f'[logging]\ndir = "{tmp_path}/log"\nconsole = false\n',
        encoding="utf-8",
    )
    grid = tmp_path / "grid.toml"
    grid.write_text("[grid]\n'risk.stop_loss.pct' = [2, 5]\n[walk_forward]\nwindows = 2\n", encoding="utf-8")
    args = ["sweep", "--config", str(config_file), "--grid", str(grid), "--out", str(tmp_path / "out")]
    assert main([*args, "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "2 parameter set(s) on local" in out
    assert "walk-forward split 0: train" in out
    for name in ("trials.parquet", "trials.csv", "walk_forward.csv", "sweep.html"):
        assert (tmp_path / "out" / "sweep" / name).exists()
    assert "Walk-forward (out of sample)" in (tmp_path / "out" / "sweep" / "sweep.html").read_text(
        encoding="utf-8"
    )
    for table in (
        pd.read_csv(tmp_path / "out" / "sweep" / "trials.csv"),
        pd.read_parquet(tmp_path / "out" / "sweep" / "trials.parquet"),
    ):  # what each trial cost, as docs/backtest.md says; not the process id, which means nothing afterwards
        assert (table["seconds"] > 0).all()
        assert (table["worker_peak_rss_mib"] > 0).all()
        assert "worker_pid" not in table
    for name in ("trials.csv", "walk_forward.csv"):  # six decimals at most, no binary float's noise
        text = (tmp_path / "out" / "sweep" / name).read_text(encoding="utf-8")
        assert re.findall(r"\.\d{7,}", text) == []
    assert main([*args, "--workers", "2", "--cluster", "tcp://127.0.0.1:1"]) == 2
    assert "choose one" in capsys.readouterr().err
    assert main([*args, "--cluster", f"tcp://127.0.0.1:{_free_port()}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "no Dask scheduler answers" in err[0]
