"""Ctrl-C during ``maemae data import`` or ``maemae data sample`` changes the store wholly or not at all:
before the new files are put in place it stops the command with one line and exit 130, the store (or the
folder) as it was; while they are renamed into place it is held until they all are. It used to leave some
codes imported (or a replaced store deleted and the new one half-written), exit 130 and say nothing; and a
Ctrl-C that numpy swallowed let an import finish as if none had come."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path

import pandas as pd
import pytest

from maemae.cli import main
from maemae.data import staging
from maemae.data.bars import Timeframe
from maemae.data.sample import generate_sample_market
from maemae.data.store import BarStore
from tests.support.stopping import stopped_when
from tests.user_errors import one_error_line

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGINT are POSIX")

# ``maemae ARGS`` (argv[4:]) whose function argv[1] (``module:name``, as the caller looks it up) touches
# argv[3] and waits when it is called the argv[2]-th time: a point to press Ctrl-C at, part of the work done
_PAUSED_AT_CALL = """
import importlib, sys, time
from pathlib import Path

module, name = sys.argv[1].split(":")
owner = importlib.import_module(module)
real = getattr(owner, name)
calls = []

def paused(*args, **kwargs):
    calls.append(1)
    if len(calls) == int(sys.argv[2]):
        Path(sys.argv[3]).touch()
        time.sleep(120)
    return real(*args, **kwargs)

setattr(owner, name, paused)
from maemae.cli import main
sys.exit(main(sys.argv[4:]))
"""


def paused_at_call(target: str, call: int, marker: Path, *args: str) -> list[str]:
    """The command line of ``maemae ARGS`` that waits when ``target`` is called the ``call``-th time."""
    return [sys.executable, "-c", _PAUSED_AT_CALL, target, str(call), str(marker), *args]


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its bytes (None for a folder)."""
    return {
        str(path.relative_to(root)): None if path.is_dir() else path.read_bytes()
        for path in sorted(root.rglob("*"))
    }


def write_csvs(source: Path, folder: Path) -> tuple[Path, Path]:
    """The minute bars and the instrument list of the store ``source`` as the CSV files an import takes."""
    store = BarStore(source)
    frames = []
    for code in store.codes(Timeframe.MINUTE):
        frame = store.read_frame(code, Timeframe.MINUTE)
        frame.insert(0, "code", str(code))
        frame["ts"] = frame["ts"].dt.strftime("%Y-%m-%dT%H:%M:%S")
        frames.append(frame)
    bars = folder / "bars.csv"
    pd.concat(frames).to_csv(bars, index=False)
    listing = folder / "instruments.csv"
    rows = [
        {
            "code": str(item.code),
            "name": item.name,
            "market": item.market.value,
            "instrument_type": item.instrument_type.value,
        }
        for item in store.read_instruments().values()
    ]
    pd.DataFrame(rows).to_csv(listing, index=False)
    return bars, listing


@pytest.fixture(scope="module")
def import_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("csv")
    generate_sample_market(folder / "source", stocks=12, days=3, seed=4)
    return write_csvs(folder / "source", folder)


def import_args(bars: Path, listing: Path, root: Path) -> list[str]:
    return ["data", "import", "--csv", str(bars), "--instruments", str(listing), "--dir", str(root)]


def test_import_when_ctrl_c_after_some_codes_are_written_leaves_the_store_as_it_was(
    tmp_path: Path, import_files: tuple[Path, Path]
) -> None:
    bars, listing = import_files
    root = tmp_path / "store"
    generate_sample_market(root, stocks=2, days=3, seed=9)  # a store the import adds to
    before = snapshot(root)
    marker = tmp_path / "paused"
    command = paused_at_call(
        "maemae.data.staging:write_temporary", 7, marker, *import_args(bars, listing, root)
    )
    code, out, err = stopped_when(command, marker.exists, "six files staged")
    assert code == 130, err
    assert out == ""
    assert one_error_line(err) == (
        f"error: data import interrupted by Ctrl-C before the end: nothing written; {root} is as it was"
    )
    assert snapshot(root) == before  # no code imported, no temporary file or new folder left


def test_import_when_ctrl_c_into_a_new_folder_leaves_no_folder(
    tmp_path: Path, import_files: tuple[Path, Path]
) -> None:
    bars, listing = import_files
    root = tmp_path / "new" / "store"
    marker = tmp_path / "paused"
    command = paused_at_call(
        "maemae.data.staging:write_temporary", 4, marker, *import_args(bars, listing, root)
    )
    code, _, err = stopped_when(command, marker.exists, "three files staged")
    assert code == 130, err
    assert not root.exists()


def test_import_when_a_library_swallows_the_ctrl_c_stops_before_writing(
    tmp_path: Path,
    import_files: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """numpy's string cast ran Python's Ctrl-C handler inside its loop and lost the KeyboardInterrupt; any
    library may: the noted Ctrl-C stops the import before the files are put in place."""
    from maemae.data import csv_import

    real = csv_import.parse_bars

    def swallowing(*args: object, **kwargs: object) -> object:
        with contextlib.suppress(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)  # handled at once, on this thread
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(csv_import, "parse_bars", swallowing)
    bars, listing = import_files
    root = tmp_path / "store"
    assert main(import_args(bars, listing, root)) == 130
    assert one_error_line(capsys.readouterr().err).startswith("error: data import interrupted by Ctrl-C")
    assert not root.exists()


def test_import_when_ctrl_c_comes_while_the_files_are_put_in_place_puts_them_all(
    tmp_path: Path,
    import_files: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    real = staging.put_in_place
    pressed: list[int] = []

    def pressing(temporary: Path, path: Path) -> None:
        if not pressed:
            pressed.append(1)
            os.kill(os.getpid(), signal.SIGINT)  # handled at once, on this thread: held
        real(temporary, path)

    monkeypatch.setattr(staging, "put_in_place", pressing)
    bars, listing = import_files
    root = tmp_path / "store"
    assert main(import_args(bars, listing, root)) == 0, capsys.readouterr().err
    assert pressed
    assert len(BarStore(root).codes(Timeframe.MINUTE)) == 13  # twelve stocks and the safe-asset ETF
    assert not [path for path in root.rglob(".*")]  # no temporary file left


def sample_args(root: Path, *extra: str) -> list[str]:
    return ["data", "sample", "--dir", str(root), "--stocks", "6", "--days", "4", *extra]


def test_sample_replace_when_ctrl_c_after_the_new_market_is_written_keeps_the_old_store(
    tmp_path: Path,
) -> None:
    root = tmp_path / "market"
    generate_sample_market(root, stocks=3, days=3, seed=9)
    (root / "notes.txt").write_text("mine", encoding="utf-8")
    before = snapshot(root)
    marker = tmp_path / "paused"
    command = paused_at_call(
        "maemae.data.sample.generator:swap_in",
        1,
        marker,
        *sample_args(root, "--replace", "--seed", "2"),
    )
    code, out, err = stopped_when(command, marker.exists, "the new market written")
    assert code == 130, err
    assert out == ""
    assert one_error_line(err) == (
        f"error: data sample interrupted by Ctrl-C before the end: nothing written; {root} is as it was"
    )
    assert snapshot(root) == before  # the old market whole, and no staging folder


def test_sample_when_ctrl_c_into_a_new_folder_leaves_no_folder(tmp_path: Path) -> None:
    root = tmp_path / "market"
    marker = tmp_path / "paused"
    command = paused_at_call("maemae.data.sample.generator:swap_in", 1, marker, *sample_args(root))
    code, _, err = stopped_when(command, marker.exists, "the new market written")
    assert code == 130, err
    assert not root.exists()


def test_fetch_when_ctrl_c_while_a_code_is_stored_keeps_the_finished_codes_and_none_half(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """pykrx gives a code's bars and adjustment factors: a Ctrl-C between the two stored Kakao's bars
    without the factors of its split, a state no later run put right (the code was done by its bars)."""
    from maemae.data.store import BarStore as Store
    from tests.data.recorded import RecordedPykrx

    monkeypatch.setattr(
        "maemae.data.sources.pykrx_source.load_library", lambda module, package: RecordedPykrx()
    )
    real = Store.merge_factors

    def interrupted(store: Store, code: str, *args: object, **kwargs: object) -> None:
        if code == "035720":
            raise KeyboardInterrupt  # Ctrl-C, with Kakao's bars already on their way
        real(store, code, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Store, "merge_factors", interrupted)
    root = tmp_path / "market"
    args = ["data", "fetch", "--source", "pykrx", "--codes", "005930,035720", "--dir", str(root)]
    assert main([*args, "--start", "2021-04-08", "--end", "2025-12-12"]) == 130
    assert one_error_line(capsys.readouterr().err) == (
        "error: data fetch interrupted by Ctrl-C before the end: each code it finished is stored whole; the "
        "same command fetches the rest"
    )
    store = BarStore(root)
    assert store.codes(Timeframe.DAY) == ["005930"]  # Samsung whole, Kakao not at all
    assert len(store.read_factors("005930")) == len(store.read_frame("005930", Timeframe.DAY))
    assert not [path for path in root.rglob(".*")]  # no temporary file left
