"""Each store writes its end-of-day reports to a folder of its own, so two stores in one folder (a paper and a
live config, one store per strategy) never overwrite each other's ``DAY.html``, and the dashboard's
``/report/DAY`` of one store serves that store's report."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from pathlib import Path

import httpx
import pytest

from maemae.cli import main
from maemae.service.report import report_dir
from tests.backtest.conftest import make_config
from tests.market_config import market_toml
from tests.web.conftest import serve_dashboard

DAY = date(2025, 12, 3)


def _store_config(root: Path, directory: Path, name: str, initial_cash: int) -> Path:
    path = directory / f"{name}.toml"
    path.write_text(
        market_toml(root, initial_cash=initial_cash)
        + f"""

[store]
url = "sqlite:///{directory}/{name}.db"

[execution]
halt_file = "{directory}/HALT"

[logging]
dir = "{directory}/log-{name}"
console = false

[web]
token_file = "{directory}/web-token-{name}"
lang = "en"
""",
        encoding="utf-8",
    )
    return path


def test_reports_when_two_stores_share_a_folder_then_each_keeps_and_serves_its_own(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configs = {
        "alpha": _store_config(market_root, tmp_path, "alpha", 50_000_000),
        "beta": _store_config(market_root, tmp_path, "beta", 30_000_000),
    }
    for name, config in configs.items():
        assert main(["paper", "--config", str(config), "--replay", DAY.isoformat(), "--speed", "0"]) == 0
        assert f"report: {tmp_path}/reports/{name}/{DAY}.html" in capsys.readouterr().out
    written = {name: (tmp_path / "reports" / name / f"{DAY}.html").read_text("utf-8") for name in configs}
    assert written["alpha"] != written["beta"]
    assert not (tmp_path / "reports" / f"{DAY}.html").exists()

    for name, config in configs.items():
        with contextmanager(serve_dashboard)(config) as dashboard:
            headers = {"Authorization": f"Bearer {dashboard.token}"}
            response = httpx.get(f"{dashboard.url}/report/{DAY}", headers=headers)
            view = httpx.get(f"{dashboard.url}/api/view", headers=headers)
        assert response.status_code == 200
        assert response.text == written[name]
        assert view.json()["reports"] == [DAY.isoformat()]


def test_report_dir_when_configured_then_used_as_it_is_else_one_per_store(market_root: Path) -> None:
    def folder(**sections: dict[str, object]) -> Path:
        return report_dir(make_config(market_root, **sections))

    assert folder(report={"dir": "/srv/reports"}, store={"url": "sqlite:///var/a.db"}) == Path("/srv/reports")
    assert folder(store={"url": "sqlite:///var/a.db"}) == Path("var/reports/a")
    assert folder(store={"url": "sqlite:////data/x/live.sqlite"}) == Path("/data/x/reports/live")
    assert folder(store={"url": "postgresql://maemae:pw@db.example:5432/paper"}) == Path(
        "var/reports/db.example-paper"
    )
    assert folder(store={"url": "postgresql://maemae@db.example/live"}) == Path("var/reports/db.example-live")
