"""What a user sees when a source library fails: a listing that raises anything is one line naming the call
(exit 7 when the site did not answer), a library that is missing is told from one that does not import, and
a run with many failed codes says how many it did not name. Libraries are stood in for: no network."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest

from maemae.cli import main
from maemae.data.sources import base
from maemae.data.sources.base import SourceUnreachable, load_library
from maemae.data.update import CodeResult, RunReport
from maemae.errors import ConfigError
from tests.data.recorded import RecordedFdr
from tests.user_errors import one_error_line

FETCH = ["data", "fetch", "--source", "fdr", "--start", "2025-12-01", "--end", "2025-12-05"]


def lost_reply(market: str) -> pd.DataFrame:
    """FinanceDataReader's listing when its request found no network: its own code then reads a variable
    the failed request never set."""
    try:
        raise ConnectionError(f"HTTPConnectionPool(host='data.krx.co.kr'): Failed to resolve ({market})")
    except ConnectionError:
        message = "cannot access local variable 'r' where it is not associated with a value"
        raise UnboundLocalError(message)  # noqa: B904 (chained to the failed request, as the library's is)


def broken_reply(market: str) -> pd.DataFrame:
    raise UnboundLocalError(f"cannot access local variable 'df' ({market})")


def with_library(monkeypatch: pytest.MonkeyPatch, library: Any) -> None:
    monkeypatch.setattr("maemae.data.sources.fdr_source.load_library", lambda module, package: library)


@pytest.mark.parametrize(
    ("listing", "exit_code", "expected"),
    [
        (lost_reply, 7, "error: FinanceDataReader StockListing('KRX',): the site it reads did not answer "),
        (
            broken_reply,
            2,
            "error: FinanceDataReader StockListing('KRX',): the library failed (UnboundLocalError",
        ),
    ],
    ids=["no network", "library bug"],
)
def test_fetch_when_the_listing_raises_anything_is_one_line_naming_the_call(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    listing: Any,
    exit_code: int,
    expected: str,
) -> None:
    library = RecordedFdr()
    monkeypatch.setattr(library, "StockListing", listing)
    with_library(monkeypatch, library)
    code = main([*FETCH, "--market", "KOSPI", "--dir", str(tmp_path)])
    line = one_error_line(capsys.readouterr().err)
    assert code == exit_code
    assert line.startswith(expected)
    assert not (tmp_path / "day").exists()


def test_source_unreachable_exits_with_the_lost_connection_code() -> None:
    assert SourceUnreachable("x").exit_code == 7


def test_fetch_when_six_codes_fail_names_five_and_says_one_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    library = RecordedFdr()
    monkeypatch.setattr(library, "DataReader", broken_reply)
    with_library(monkeypatch, library)
    codes = "013960,189280,204730,302070,357870,005930"
    assert main([*FETCH, "--codes", codes, "--dir", str(tmp_path)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith(
        "error: 6 code(s) failed (005930, 013960, 189280, 204730, 302070 and 1 more; reasons in the report)"
    )


def test_failure_line_when_five_or_fewer_fail_names_them_all() -> None:
    report = RunReport("fdr", "2025-12-05T16:00:00")
    report.results = [CodeResult(code, "", "", error="x") for code in ("000001", "000002")]
    assert report.failure_line().startswith("2 code(s) failed (000001, 000002; reasons in the report)")


def importing(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    def fail(name: str) -> ModuleType:
        raise error

    monkeypatch.setattr(base.importlib, "import_module", fail)


def test_load_library_when_the_library_is_missing_says_how_this_project_installs_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    importing(monkeypatch, ModuleNotFoundError("No module named 'pykrx'", name="pykrx"))
    with pytest.raises(ConfigError) as raised:
        load_library("pykrx", "pykrx")
    message = str(raised.value)
    assert message.startswith("data source pykrx: the library is not installed: install the sources extra")
    assert "uv sync --frozen --inexact --extra dev --extra sources" in message
    assert "pip install" not in message


def test_load_library_when_a_module_the_library_needs_is_missing_names_that_module(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    importing(monkeypatch, ModuleNotFoundError("No module named 'pkg_resources'", name="pkg_resources"))
    with pytest.raises(ConfigError) as raised:
        load_library("pykrx", "pykrx")
    assert str(raised.value).startswith(
        "data source pykrx: the library is installed but does not import: it needs the module 'pkg_resources'"
    )
    assert "not installed: install" not in str(raised.value)


def test_load_library_when_the_library_raises_on_import_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    importing(monkeypatch, AttributeError("module 'numpy' has no attribute 'float'\nmore"))
    with pytest.raises(ConfigError) as raised:
        load_library("FinanceDataReader", "finance-datareader")
    assert str(raised.value) == (
        "data source finance-datareader: the library is installed but does not import: "
        "AttributeError: module 'numpy' has no attribute 'float'"
    )


class _JSONDecodeError(ValueError, OSError):
    """As requests' own: a reply that is not JSON (an HTML block page) is both."""


class HTTPError(OSError):
    """As requests' own: an error status, an OSError by descent, though the server answered."""


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (_JSONDecodeError("Expecting value: line 1 column 1"), "unreadable reply from KRX"),
        (HTTPError("403 Client Error: Forbidden"), "the library failed (HTTPError: 403"),
    ],
)
def test_library_failure_when_the_server_answered_badly_is_not_called_unreachable(
    error: Exception, expected: str
) -> None:
    """Exit 7 says "try again later": a block page or a 403 will not go away by waiting."""
    failure = base.library_failure("pykrx listing", error, "KRX")
    assert not isinstance(failure, SourceUnreachable)
    assert expected in str(failure)


@pytest.mark.parametrize(
    "error",
    [ConnectionError("refused"), TimeoutError("timed out"), type("ReadTimeout", (OSError,), {})("slow")],
)
def test_library_failure_when_connecting_failed_is_unreachable(error: Exception) -> None:
    failure = base.library_failure("pykrx listing", error, "KRX")
    assert isinstance(failure, SourceUnreachable)
    assert failure.exit_code == 7
