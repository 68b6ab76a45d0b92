"""``--store URL``: one config replays several days, each into a store of its own, and the commands that read
a store (status, orders, report, halt, the dashboard) read the one named; a day on the clock refuses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maemae.cli import main
from maemae.config import load_config
from maemae.engine.composition import open_state_store
from maemae.store.repository import SqlStateStore
from maemae.web.server import build_dashboard
from tests.engine.test_paper import _config
from tests.engine.test_run import _config as run_config
from tests.user_errors import one_error_line, refused

FIRST, SECOND = "2025-12-03", "2025-12-04"


def _days(url: str) -> list[str]:
    store = SqlStateStore(url, create=False)
    try:
        return [result.day.isoformat() for result in store.daily_results()]
    finally:
        store.close()


@pytest.mark.whole_day
def test_store_option_when_two_days_are_replayed_then_each_has_its_store_and_status_reads_it(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = str(_config(market_root, tmp_path))
    config_store = f"sqlite:///{tmp_path}/state.db"
    second = f"sqlite:///{tmp_path}/replay-{SECOND}.db"
    assert main(["paper", "--config", config_file, "--replay", FIRST, "--speed", "0"]) == 0
    # the config's store holds FIRST: the second day goes to the store the option names
    assert main(["paper", "-c", config_file, "--replay", SECOND, "--speed", "0", "--store", second]) == 0
    capsys.readouterr()
    assert _days(config_store) == [FIRST]
    assert _days(second) == [SECOND]

    assert main(["status", "-c", config_file, "--json", "--store", second]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert main(["status", "-c", config_file, "--json"]) == 0
    assert shown != json.loads(capsys.readouterr().out)  # two books, not one read twice

    assert main(["orders", "-c", config_file, "--day", SECOND, "--json", "--store", second]) == 0
    assert json.loads(capsys.readouterr().out)  # the second day's orders are in its store...
    assert main(["orders", "-c", config_file, "--day", SECOND, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # ...and none in the config's

    reports = tmp_path / "reports"
    arguments = ["report", "-c", config_file, "--out", str(reports), "--no-backtest", "--store", second]
    assert main(arguments) == 0
    assert (reports / f"{SECOND}.html").is_file()
    assert not (
        reports / f"{FIRST}.html"
    ).exists()  # the last closed day of the store named, not the config's


@pytest.mark.whole_day
def test_store_option_when_run_replays_then_it_writes_the_store_named(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = str(run_config(market_root, tmp_path))
    url = f"sqlite:///{tmp_path}/run-replay.db"
    assert main(["run", "-c", config_file, "--replay", FIRST, "--store", url]) == 0
    capsys.readouterr()
    assert _days(url) == [FIRST]
    assert not (tmp_path / "state.db").exists()  # the config's store is left alone

    assert main(["halt", "-c", config_file, "--store", url, "--reason", "test"]) == 0
    assert "trading state set to halted" in capsys.readouterr().out
    assert main(["status", "-c", config_file, "--json", "--store", url]) == 0
    assert json.loads(capsys.readouterr().out)["trading_state"] == "halted"


def test_store_option_when_the_day_is_on_the_clock_then_refused(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = str(run_config(market_root, tmp_path))
    line = refused(main(["run", "-c", config_file, "--store", f"sqlite:///{tmp_path}/x.db"]), capsys)
    assert line.startswith(f"error: --store 'sqlite:///{tmp_path}/x.db': only with --replay")
    assert "restart finds the orders it sent" in line
    assert not (tmp_path / "x.db").exists()
    assert not (tmp_path / "state.db").exists()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("var/x.db", "'var/x.db': expected a SQLAlchemy URL such as sqlite:///var/maemae.db"),
        ("mysql://h/db", "'mysql://h/db': expected a sqlite:// or postgresql:// URL, not mysql://"),
        ("sqlite://", "'sqlite://': "),
        (
            "postgresql://me:secret@127.0.0.1:x/db",
            "'postgresql://me:***@127.0.0.1:x/db': expected a SQLAlchemy",
        ),
    ],
)
def test_store_option_when_the_url_is_bad_then_one_line_and_nothing_written(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str, expected: str
) -> None:
    config_file = str(_config(market_root, tmp_path))
    for command in (["paper", "--replay", FIRST, "--speed", "0"], ["status"], ["run", "--replay", FIRST]):
        line = refused(main([*command, "-c", config_file, "--store", url]), capsys)
        assert line.startswith(f"error: --store {expected}"), line
        assert "secret" not in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["paper.toml"]


def test_store_option_when_the_store_is_missing_then_status_says_so_and_creates_none(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = str(_config(market_root, tmp_path))
    missing = tmp_path / "replay-typo.db"
    assert main(["status", "-c", config_file, "--store", f"sqlite:///{missing}"]) != 0
    line = one_error_line(capsys.readouterr().err)
    assert f"{missing} does not exist" in line
    assert not missing.exists()


def test_store_option_when_given_to_the_dashboard_then_its_start_button_runs_on_that_store(
    market_root: Path, tmp_path: Path
) -> None:
    config_file = _config(market_root, tmp_path)
    url = f"sqlite:///{tmp_path}/replay.db"
    settings = load_config(config_file, url)
    assert settings.store.url == url
    settings = settings.model_copy(
        update={"web": settings.web.model_copy(update={"token_file": tmp_path / "t"})}
    )
    store = open_state_store(settings)
    try:
        board = build_dashboard(settings, config_file, store, url)
        assert board.process.command[-2:] == ["--store", url]
        assert "--store" not in build_dashboard(settings, config_file, store).process.command
    finally:
        store.close()
