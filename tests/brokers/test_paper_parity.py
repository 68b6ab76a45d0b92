"""A replayed paper day through each broker adapter (KIS over the local KIS server, Creon over the fake COM
layer) trades exactly like the backtest of that day, and ends with maemae's book equal to the venue's."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from maemae.backtest.service import run_backtest
from maemae.cli import main
from maemae.config import load_config
from maemae.store.repository import SqlStateStore
from tests.engine.test_paper import _config, _terms

DAY = date(2025, 12, 3)


@pytest.mark.parametrize("broker", ["kis-mock", "creon-fake"])
def test_paper_when_through_a_broker_adapter_then_same_orders_as_backtest_and_book_equal(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], broker: str
) -> None:
    config_file = _config(market_root, tmp_path)
    args = ["paper", "--config", str(config_file), "--replay", DAY.isoformat(), "--speed", "0"]
    assert main([*args, "--broker", broker]) == 0
    out = capsys.readouterr().out
    assert "book: maemae's orders, holdings and cash equal the venue's" in out
    backtest = run_backtest(load_config(config_file), start=DAY, end=DAY, every_bar=True)
    store = SqlStateStore(f"sqlite:///{tmp_path}/state.db")
    try:
        assert _terms(store.load(DAY).orders) == _terms(backtest.engine.orders.orders.values())
        assert f"equity at the close {backtest.recorder.days[-1].equity:,} won" in out
    finally:
        store.close()
