import csv
import json
from pathlib import Path

import pytest

from maemae.cli import main
from tests.backtest.conftest import write_cli_config


def write_config(tmp_path: Path, market_root: Path, extra: str = "") -> Path:
    out = tmp_path / "out"
    dates = f'start = 2025-11-24\nend = 2025-12-05\nout_dir = "{out}"'
    return write_cli_config(tmp_path, market_root, backtest=dates, extra=extra)


def test_backtest_cli_when_run_writes_every_output_consistently(
    tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, market_root)
    assert main(["backtest", "--config", str(config)]) == 0
    out = tmp_path / "out"
    printed = capsys.readouterr().out
    assert "report: " in printed
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["denied_orders"] == {}
    assert "denied" not in printed
    for key in (
        "final_equity",
        "total_return",
        "cagr",
        "max_drawdown",
        "sharpe",
        "n_trades",
        "win_rate",
        "turnover",
        "commission",
        "tax",
        "denied_orders",
    ):
        assert key in summary
    trades = list(csv.DictReader((out / "trades.csv").open(encoding="utf-8")))
    orders = list(csv.DictReader((out / "orders.csv").open(encoding="utf-8")))
    equity = list(csv.DictReader((out / "equity.csv").open(encoding="utf-8")))
    assert trades
    assert sum(int(t["commission"]) for t in trades) == summary["commission"]
    assert sum(int(t["tax"]) for t in trades) == summary["tax"]
    assert len({t["order_id"] for t in trades}) == summary["n_trades"]
    assert int(equity[-1]["equity"]) == summary["final_equity"]
    assert {o["final_state"] for o in orders} <= {"filled", "cancelled", "denied", "expired", "rejected"}
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in html
    assert "Equity" in html
    # what ran, so two saved reports tell apart: the config file, the period and its sessions
    title = f"maemae backtest of {config}, 2025-11-24 to 2025-12-05 (10 sessions)"
    assert f"<title>{title}</title>" in html
    assert f"<h1>{title}</h1>" in html


def test_backtest_cli_when_dates_bad_exits_2_with_one_line(
    tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, market_root)
    assert main(["backtest", "--config", str(config), "--start", "2025-13-01"]) == 2
    err = capsys.readouterr().err
    assert err == "error: --start '2025-13-01': no such date; expected a date as YYYY-MM-DD\n"


def test_backtest_cli_when_strategy_param_unknown_names_it(
    tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path,
        market_root,
        "[strategies.minute]\nclass = 'rsi_minute'\n[strategies.minute.params]\nperiodd = 3\n",
    )
    assert main(["backtest", "--config", str(config)]) == 2
    assert "strategies.minute.params.periodd" in capsys.readouterr().err


def test_compare_cli_when_run_writes_table_for_every_policy(
    tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = (
        write_config(tmp_path, market_root).read_text(encoding="utf-8").replace("2025-11-24", "2025-12-01")
    )
    path = tmp_path / "short.toml"
    path.write_text(config, encoding="utf-8")
    assert main(["compare", "--config", str(path)]) == 0
    rows = list(csv.DictReader((tmp_path / "out" / "compare" / "compare.csv").open(encoding="utf-8")))
    assert [r["policy"] for r in rows] == [
        "none",
        "one_trade_a_day",
        "cooldown",
        "cooldown+reentry",
        "cooldown+reentry+caps",
        "cooldown+reentry+caps+take_profit",
    ]
    trades = {r["policy"]: int(r["n_trades"]) for r in rows}
    assert trades["one_trade_a_day"] <= trades["none"]
    assert (tmp_path / "out" / "compare" / "none" / "report.html").exists()
    assert "overtrading policies" in capsys.readouterr().out


def test_backtest_cli_when_intents_are_denied_then_the_result_line_counts_them(
    tmp_path: Path, market_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run whose intents the gate denied must not read as one that chose not to trade."""
    caps = "[risk.daily_caps]\nenabled = true\nmax_trades_per_account = 1\n"
    assert main(["backtest", "--config", str(write_config(tmp_path, market_root, caps))]) == 0
    printed = capsys.readouterr().out
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    denied = summary["denied_orders"]
    assert denied
    reason, count = max(denied.items(), key=lambda item: item[1])
    assert (
        f", {sum(denied.values()):,} intents denied (most: {reason}, {count:,}; orders.csv has each)"
        in printed
    )
