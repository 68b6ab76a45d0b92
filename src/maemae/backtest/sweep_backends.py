"""Where sweep trials run: the task every backend runs (``run_trial``), the local process pool and the Dask
cluster.

The task is a module-level function, so processes and Dask workers import it; each worker process loads a
window's market once and keeps it for the trials that follow, and starts clean (a fork server or spawn), so
its memory is its own trials'.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import multiprocessing.resource_tracker
import os
import re
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from datetime import date
from typing import Any

from maemae.backtest.market import BacktestMarket
from maemae.backtest.service import load_market, run_backtest
from maemae.backtest.sweep import METRICS, Progress, Trial, with_params
from maemae.config import parse_config
from maemae.errors import ConfigError
from maemae.logs import configure_logging
from maemae.memory import peak_rss_mib

# a Dask scheduler's address as maemae can reach it: TCP (TLS would need certificates maemae does not pass), a
# host name or IPv4 address, or an IPv6 address in brackets, and a port
_ADDRESS = re.compile(r"tcp://(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(?P<port>[0-9]{1,5})")

_LOADED: dict[tuple[str, str, date, date], tuple[BacktestMarket, list[date]]] = {}


def _clean_context() -> multiprocessing.context.BaseContext:
    """Workers that start clean: their memory is their own trials' whatever the parent holds, and no thread
    of the parent is copied half-way. A fork server with maemae preloaded where there is one (POSIX): each
    worker is then a fork of a small process, started in a fraction of a second; spawn elsewhere."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["maemae.backtest.sweep_backends"])
    _start_fork_server_deaf_to_ctrl_c()
    return context


def _start_fork_server_deaf_to_ctrl_c() -> None:
    """Starts the fork server (unless it runs) with Ctrl-C blocked, as are then the workers it forks: a
    terminal's Ctrl-C reaches every process of the sweep's group, and one that reached the fork server while
    it imported maemae, or a worker before its initializer ran, printed a traceback under the sweep's line.
    The sweep alone takes Ctrl-C and ends them (``_stop_now``). A new process inherits the blocked signal
    from the thread that starts it; the server ignores Ctrl-C once it has imported maemae, which drops one
    that waited. The sweep's own thread blocks it only for the few milliseconds the launch takes, and gets a
    Ctrl-C pressed then as soon as it unblocks it."""
    # the resource tracker first: starting it unblocks Ctrl-C in this thread (it blocks it for its own launch)
    multiprocessing.resource_tracker.ensure_running()
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


@contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """Holds a Ctrl-C back until the block ends, then raises it: the pool starts a worker inside ``submit``,
    and a Ctrl-C taken half-way through left that worker forked but not yet in the pool's list, so nothing
    ended it; the sweep then hung, or the worker printed a traceback once the sweep had gone."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) in (
        signal.SIG_IGN,
        None,
    ):
        yield  # only the main thread may set a handler; a sweep started with Ctrl-C ignored keeps ignoring it
        return
    pressed = False

    def hold(signum: int, frame: object) -> None:
        nonlocal pressed
        pressed = True

    previous = signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pressed:
        raise KeyboardInterrupt


def start_worker(config_json: dict[str, Any]) -> None:
    """A worker process logs as the sweep's config says (the JSON file, and the console if enabled), and
    leaves Ctrl-C to the sweep: a terminal's Ctrl-C reaches every process of its group, and a worker that
    took it would only turn its trial into an error and go on to the next one, while the sweep stops them all
    (``LocalBackend.run``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
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


class LocalBackend:
    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.parallelism = self.workers

    def run(
        self, config_json: dict[str, Any], trials: Sequence[Trial], progress: Progress | None
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        if progress:  # the bar shows the total from the start, not only once the first trial is done
            progress(0, len(trials))
        if self.workers == 1:
            for trial in trials:
                rows.append(run_trial(config_json, trial))
                if progress:
                    progress(len(rows), len(trials))
            return rows
        context = _clean_context()
        pool = ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=start_worker, initargs=(config_json,)
        )
        try:
            with _ctrl_c_held():
                futures: list[Future[dict[str, Any]]] = [
                    pool.submit(run_trial, config_json, t) for t in trials
                ]
            for future in as_completed(futures):
                rows.append(future.result())
                if progress:
                    progress(len(rows), len(trials))
        except BaseException:
            _stop_now(pool)
            raise
        pool.shutdown()
        return rows


def _stop_now(pool: ProcessPoolExecutor) -> None:
    """Stop a pool at once (Ctrl-C, or a trial that failed): the trials not started are cancelled and the
    workers ended, instead of leaving the pool's shutdown to wait for every trial queued, which kept a sweep
    running for most of a minute after Ctrl-C. Nothing is lost that matters: the sweep writes its outputs
    only once every trial is in, and a worker ended while it wrote a bar cache copy leaves a temporary file
    the cache removes (``data.bar_cache``)."""
    # the worker processes before shutdown forgets them (ProcessPoolExecutor has no public way to end them
    # before Python 3.14's terminate_workers)
    workers = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)  # forgotten by the shutdown below too
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        if worker.is_alive():
            worker.terminate()
    for worker in workers:
        worker.join(5)
    # and the pool's own thread, which sees its workers gone and ends: left running, Python 3.11 wakes it at
    # exit through a pipe that thread may be closing at that moment, printing an ignored OSError traceback
    if manager is not None:
        manager.join(5)


def checked_address(address: str) -> str:
    """``address`` if it has the form of a scheduler's address, else one line naming ``--cluster``: checked
    when the backend is made, before any trial runs, as Dask would only refuse it with a traceback."""
    match = _ADDRESS.fullmatch(address)
    if match is None or not 1 <= int(match["port"]) <= 65535:
        raise ConfigError(
            f"--cluster {address!r}: expected a Dask scheduler address like tcp://HOST:8786 (tcp://, a host "
            "and a port from 1 to 65535)"
        )
    return address


class DaskBackend:
    """The same tasks on a Dask cluster (``--cluster tcp://HOST:8786``)."""

    name = "cluster"

    def __init__(self, address: str, parallelism: int = 8) -> None:
        self.address = checked_address(address)
        self.parallelism = parallelism

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
            if progress:
                progress(0, len(trials))
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
