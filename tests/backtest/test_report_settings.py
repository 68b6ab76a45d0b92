"""report.html names what ran: both strategies as the config names them, with the parameters they ran with
(defaults included), the risk rules and the backtest's settings; every text from the user escaped. A report
used to show the results alone, and nobody could tell which strategies had made them."""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser
from pathlib import Path

from maemae.backtest.compare import compare_policies
from maemae.backtest.service import run_backtest
from maemae.cli import main
from tests.backtest.conftest import make_config, write_cli_config

START, END = date(2025, 12, 1), date(2025, 12, 3)

QUIET = """
from typing import ClassVar
from maemae.strategy.api import MinuteInput, MinuteStrategy, StrategyParams

class QuietParams(StrategyParams):
    note: str = "plain"
    size: int = 1

class Quiet(MinuteStrategy):
    '''Never orders: the run only has to reach its report.'''
    name: ClassVar[str] = "quiet"
    Params: ClassVar[type[StrategyParams]] = QuietParams

    def on_bar(self, data: MinuteInput) -> None:
        return None
"""


class Tags(HTMLParser):
    """The elements a page holds, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)


def _tags(page: str) -> set[str]:
    parser = Tags()
    parser.feed(page)
    return parser.tags


def test_backtest_report_when_run_from_a_config_names_both_strategies_with_their_settings(
    tmp_path: Path, market_root: Path
) -> None:
    out = tmp_path / "out"
    config = write_cli_config(
        tmp_path,
        market_root,
        backtest=f'start = {START}\nend = {END}\nout_dir = "{out}"',
        extra="""
[strategies.minute]
class = "rsi_minute"
[strategies.minute.params]
period = 9
[risk.cooldown]
enabled = true
minutes = 45
""",
    )
    assert main(["backtest", "--config", str(config)]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    # as the config names them, with every parameter as validated: the defaults the config left out too
    assert (
        "<tr><th>daily</th><td>sma_daily</td>"
        "<td>short = 3, long = 10, volume_filter = false, volume_ratio = 1.0</td></tr>"
    ) in page
    assert (
        "<tr><th>minute</th><td>rsi_minute</td><td>order_type = &quot;limit&quot;, limit_offset_ticks = 1, "
        "period = 9, oversold = 30, overbought = 70</td></tr>"
    ) in page
    assert "<p>Overtrading controls on: cooldown</p>" in page
    assert "<tr><th>cooldown</th><td>on: minutes = 45</td></tr>" in page
    assert "<tr><th>reentry</th><td>off</td></tr>" in page
    assert "<tr><th>stop_loss</th><td>on: pct = 5</td></tr>" in page  # a default rule, shown as it ran
    assert "<tr><th>initial cash</th><td>100,000,000 won</td></tr>" in page
    assert page.index("<h2>Strategies</h2>") < page.index("final equity")  # said before the results
    assert "http" not in page  # still self-contained: no external resource


def test_backtest_report_when_a_strategy_reference_holds_markup_then_escaped(
    tmp_path: Path, market_root: Path
) -> None:
    folder = tmp_path / "<script>alert(1)</script>"  # a folder "<script>alert(1)<" holding "script>"
    folder.mkdir(parents=True)
    (folder / "quiet.py").write_text(QUIET, encoding="utf-8")
    reference = f"{folder}/quiet.py:Quiet"
    minute = {"class": reference, "params": {"note": "<b>bold</b> & <i>"}}
    config = make_config(market_root, strategies={"minute": minute})
    run_backtest(config, start=START, end=END, out_dir=tmp_path / "out")
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page
    assert "<b>" not in page
    assert _tags(page) & {"script", "b", "i"} == set()
    escaped = reference.replace("<", "&lt;").replace(">", "&gt;")
    assert (
        f"<tr><th>minute</th><td>{escaped}</td>"
        "<td>note = &quot;&lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;&quot;, size = 1</td></tr>"
    ) in page


def test_compare_html_when_policies_compared_names_the_strategies(tmp_path: Path, market_root: Path) -> None:
    minute = {"class": "rsi_minute", "params": {"period": 9}}
    config = make_config(market_root, strategies={"minute": minute})
    out = tmp_path / "compare"
    compare_policies(config, start=START, end=START, out_dir=out)
    page = (out / "compare.html").read_text(encoding="utf-8")
    assert "<tr><th>daily</th><td>sma_daily</td><td>short = 3, long = 10," in page
    assert "<tr><th>minute</th><td>rsi_minute</td>" in page
    assert "period = 9" in page
    # each policy's report names its own overtrading controls
    last = (out / "cooldown+reentry+caps+take_profit" / "report.html").read_text(encoding="utf-8")
    assert "<p>Overtrading controls on: cooldown, reentry, daily_caps, take_profit</p>" in last
    none = (out / "none" / "report.html").read_text(encoding="utf-8")
    assert "<p>Overtrading controls on: none</p>" in none
