"""``broker.kis.base_url`` and ``ws_url`` go together: one alone would split a session between a local server
and KIS's real one (the approval key and the HTS id sent to the real WebSocket), so it is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from maemae.brokers.kis import protocol
from maemae.brokers.kis.adapter import server_urls
from maemae.cli import main
from maemae.config.broker import KisBrokerConfig
from maemae.errors import ConfigError

BASE = "http://127.0.0.1:8720"
WS = "ws://127.0.0.1:8720/tryitout"


def _config_file(tmp_path: Path, **urls: str) -> Path:
    path = tmp_path / "kis.toml"
    fields = "".join(f'{name} = "{value}"\n' for name, value in urls.items())
    # a data.root that is there: config check warns of one that is not
    text = f'[data]\nroot = "{tmp_path}"\n\n[broker]\nkind = "kis"\n\n[broker.kis]\n{fields}'
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("urls", "given", "missing"),
    [
        ({"base_url": BASE}, f"base_url = {BASE!r}", "ws_url"),
        ({"ws_url": WS}, f"ws_url = {WS!r}", "base_url"),
    ],
)
def test_config_check_when_only_one_kis_url_set_then_one_line_naming_both_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], urls: dict[str, str], given: str, missing: str
) -> None:
    path = _config_file(tmp_path, **urls)
    assert main(["config", "check", str(path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {path}: broker.kis")
    assert f"{given} but {missing} is not set" in lines[0]


def test_every_command_when_only_base_url_set_then_refused_before_any_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The config is refused at load, so `data fetch --source kis` never builds the adapter."""
    path = _config_file(tmp_path, base_url=BASE)
    args = ["data", "fetch", "--source", "kis", "--codes", "005930", "--start", "2025-12-01"]
    assert main([*args, "--end", "2025-12-03", "--config", str(path), "--dir", str(tmp_path / "m")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert "ws_url is not set" in lines[0]


@pytest.mark.parametrize("urls", [{}, {"base_url": BASE, "ws_url": WS}])
def test_config_check_when_both_or_neither_kis_url_set_then_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], urls: dict[str, str]
) -> None:
    assert main(["config", "check", str(_config_file(tmp_path, **urls))]) == 0
    assert capsys.readouterr().err == ""


def test_server_urls_when_config_built_in_code_with_one_url_then_refused() -> None:
    """``model_copy`` skips the validators; the adapter still never mixes the two servers."""
    half = KisBrokerConfig().model_copy(update={"base_url": BASE})
    with pytest.raises(ConfigError, match=r"broker\.kis\.base_url = .*, broker\.kis\.ws_url = None:"):
        server_urls(half)
    assert server_urls(KisBrokerConfig(base_url=BASE, ws_url=WS)) == (BASE, WS)
    assert server_urls(KisBrokerConfig(paper=True)) == (protocol.PAPER_BASE_URL, protocol.PAPER_WS_URL)
    assert server_urls(KisBrokerConfig(paper=False)) == (protocol.REAL_BASE_URL, protocol.REAL_WS_URL)
