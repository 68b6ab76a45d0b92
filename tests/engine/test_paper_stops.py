"""``maemae paper`` stopped by Ctrl-C or SIGTERM before the close: it ends between two saved steps with one
line saying where, and whether the same command goes on (only when the exchange runs in a process of its
own); Ctrl-C exits 130, SIGTERM (a stop that was asked for) 0, as ``maemae run`` does."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from maemae.cli import main
from maemae.domain.order_states import OrderState
from maemae.engine.stop_signals import stopped_line
from maemae.engine.venues import VenueChoice, how_to_go_on
from maemae.store.repository import SqlStateStore
from tests.engine.test_paper import DAY, KEY, _config, _serve, saved_step
from tests.support.stopping import stopped_when, wait_until
from tests.user_errors import one_error_line

STOPPED = (
    r"2025-12-03: stopped before the close by {signal} at step (\d+) after (\d+) orders? and (\d+) fills?; "
)


def _saved(url: str) -> tuple[int, int, int]:
    """The step the store goes on from, and the orders sent and fills it holds."""
    store = SqlStateStore(url, create=False)
    try:
        cursor = store.load(None).runtime["cursor"]
        orders = [
            o
            for o in store.load(date.fromisoformat(cursor["day"])).orders
            if o.state is not OrderState.DENIED
        ]
    finally:
        store.close()
    return int(cursor["next_bar"]), len(orders), sum(len(o.fill_ids) for o in orders)


def _stop_half_way(
    command: list[str], url: str, how: signal.Signals, env: dict[str, str]
) -> tuple[int, str, str]:
    """Start ``command``, wait until it has saved step 40, then send ``how`` as a terminal's Ctrl-C does."""
    return stopped_when(command, lambda: saved_step(url) >= 40, "step 40", how, env)


def _paper(config: Path) -> list[str]:
    """``maemae paper`` on the replayed day, as a new process."""
    return [sys.executable, "-m", "maemae.cli", "paper", "--config", str(config), "--replay", DAY.isoformat()]


@pytest.mark.whole_day
@pytest.mark.parametrize(("how", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 0)])
def test_paper_when_stopped_with_the_exchange_inside_then_one_line_says_the_day_cannot_be_resumed(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], how: signal.Signals, code: int
) -> None:
    config = _config(market_root, tmp_path)
    url = f"sqlite:///{tmp_path}/state.db"
    paper = _paper(config)
    returned, out, err = _stop_half_way([*paper, "--speed", "600"], url, how, dict(os.environ))
    assert returned == code, err
    line = one_error_line(err) if how is signal.SIGINT else out.strip().splitlines()[-1]
    if how is signal.SIGTERM:
        assert err == ""
    stopped = re.match(("error: " if how is signal.SIGINT else "") + STOPPED.format(signal=how.name), line)
    assert stopped is not None, line
    assert tuple(int(n) for n in stopped.groups()) == _saved(url)  # where the store stands, and what it holds
    assert line.endswith(
        "the state is saved, but the exchange ran inside this process and is gone, so this day cannot be "
        "resumed: replay it into a new store (--store URL, or the config's store.url), or run the exchange "
        "on its own (`maemae sim serve` or `maemae kis-mock`) and pass --exchange for a run that can be "
        "resumed"
    )
    assert "book" not in out  # a day stopped half-way is not judged
    # and, as it said, the same command cannot go on with it
    assert main([*paper[3:], "--speed", "0"]) == 6
    assert f"stopped at step {stopped[1]} whose exchange ran inside" in one_error_line(
        capsys.readouterr().err
    )


@pytest.mark.whole_day
def test_paper_when_sigterm_with_the_exchange_apart_then_the_same_command_goes_on(
    market_root: Path, tmp_path: Path
) -> None:
    config = _config(market_root, tmp_path)
    env = {**os.environ, "MAEMAE_SIM_AUTHKEY": KEY}
    url = f"sqlite:///{tmp_path}/state.db"
    server, exchange = _serve(config, env)
    paper = _paper(config)
    paper += ["--exchange", exchange]
    try:
        returned, out, err = _stop_half_way([*paper, "--speed", "600"], url, signal.SIGTERM, env)
        assert returned == 0, err
        line = out.strip().splitlines()[-1]
        stopped = re.match(
            STOPPED.format(signal="SIGTERM") + "the state is saved: start the same command again to go on$",
            line,
        )
        assert stopped is not None, line
        step = int(stopped[1])
        assert step == _saved(url)[0]
        again = subprocess.run([*paper, "--speed", "0"], env=env, capture_output=True, text=True, timeout=180)
    finally:
        server.kill()
        server.wait(10)
    assert again.returncode == 0, again.stderr
    assert f"resumed {DAY} at step {step}" in again.stdout
    assert "book: maemae's orders, holdings and cash equal the venue's" in again.stdout


@pytest.mark.parametrize(
    ("orders", "fills", "counts"),
    [(1, 1, "after 1 order and 1 fill;"), (2, 1_500, "after 2 orders and 1,500 fills;")],
)
def test_paper_stop_line_when_counts_are_one_or_many_then_each_noun_reads_as_counted(
    orders: int, fills: int, counts: str
) -> None:
    """``after 1 orders`` read as a slip."""
    going_on = how_to_go_on(VenueChoice(address=("127.0.0.1", 1)))
    line = stopped_line(DAY, signal.SIGTERM, orders, fills, going_on, step=40)
    assert line == (
        f"2025-12-03: stopped before the close by SIGTERM at step 40 {counts} the state is saved: start the "
        "same command again to go on"
    )


def _open(url: str) -> dict[str, OrderState]:
    """The orders of the stopped day its store holds open, with their states."""
    try:
        store = SqlStateStore(url, create=False)
        try:
            return {o.order_id: o.state for o in store.load(DAY).orders if o.is_open}
        finally:
            store.close()
    except Exception:  # not created yet, or not whole yet
        return {}


@pytest.mark.whole_day
def test_paper_when_a_day_stopped_with_orders_working_is_left_then_the_next_day_ends_them_and_starts_afresh(
    market_root: Path, tmp_path: Path
) -> None:
    """A paper day killed while an order worked at `maemae sim serve`, and never resumed; the next trading
    day's run on the same store and exchange ends that order with the exchange's orders of its day (it
    neither stays open in maemae for good nor trades on the next day's bars), starts its own day from the
    open, not "resumed" at the stopped day's step, and closes with its book equal to the exchange's."""
    config = _config(market_root, tmp_path)
    env = {**os.environ, "MAEMAE_SIM_AUTHKEY": KEY}
    url = f"sqlite:///{tmp_path}/state.db"
    server, exchange = _serve(config, env)
    paper = [*_paper(config)[:-2], "--exchange", exchange]
    try:
        first = subprocess.Popen(
            [*paper, "--replay", DAY.isoformat(), "--speed", "600"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            working = lambda: OrderState.ACCEPTED in _open(url).values()  # noqa: E731
            wait_until(first, working, "an order working at the exchange", timeout=120)
        finally:
            first.kill()
            first.communicate(timeout=10)
        left = _open(url)  # at the kill, orders may also be in flight: a modify or cancel pending, a submit
        again = subprocess.run(
            [*paper, "--replay", "2025-12-04", "--speed", "0"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        # the day before, on the same store and exchange: refused, the book being that of a later day (it
        # printed the later day's figures as the earlier day's and exited 0)
        back = subprocess.run(
            [*paper, "--replay", DAY.isoformat(), "--speed", "0"], env=env, capture_output=True, text=True
        )
    finally:
        server.kill()
        server.wait(10)
    assert again.returncode == 0, again.stderr
    assert "resumed" not in again.stdout
    assert back.returncode == 6, back.stderr
    assert back.stdout == ""
    assert "has traded up to 2025-12-04, a later day than 2025-12-03" in one_error_line(back.stderr)
    recovery = next(line for line in again.stdout.splitlines() if line.startswith("recovery:"))
    counts = re.search(r"(\d+) never sent, .* (\d+) closed, 0 reconciliation differences$", recovery)
    assert counts is not None, recovery
    assert int(counts[1]) + int(counts[2]) == len(left), recovery  # each ended: closed, or never sent
    assert "book: maemae's orders, holdings and cash equal the venue's" in again.stdout
    store = SqlStateStore(url)
    try:
        ended = [o for o in store.load(DAY).orders if o.order_id in left]
    finally:
        store.close()
    assert len(ended) == len(left)
    for order in ended:
        assert not order.is_open, order.state
        notes = [line.note for line in order.history]
        # each ended by the exchange's orders of its day, unless a fill made before the kill and read only now
        # filled it
        settled = any(note.startswith("settled by query:") for note in notes)
        assert settled or order.state is OrderState.FILLED, notes
