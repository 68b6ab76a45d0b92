"""``maemae compare``'s outputs are one set: every policy's folder is checked before the first run, and
compare.csv, compare.html and the six policy folders are replaced together, so a refused, failed or
interrupted comparison leaves the previous one whole, never tables of one run beside folders of another."""

import shutil
from pathlib import Path

import pytest

from maemae.backtest import compare, service
from maemae.backtest.compare import POLICIES
from maemae.backtest.outputs import OUTPUT_FILES
from maemae.cli import main
from tests.backtest.conftest import maemae_on_a_full_disk, read_only_folder, write_cli_config
from tests.user_errors import one_error_line, refused

LAST = "cooldown+reentry+caps+take_profit"


def write_config(tmp_path: Path, market_root: Path) -> Path:
    return write_cli_config(tmp_path, market_root)


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones included) by its relative path, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def first_set(market_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A comparison over 2025-12-01..05, done once: each test copies it before changing it."""
    base = tmp_path_factory.mktemp("compare-first")
    args = ["compare", "-c", str(write_config(base, market_root)), "--out", str(base / "out")]
    assert main([*args, "--start", "2025-12-01", "--end", "2025-12-05"]) == 0
    return base / "out"


@pytest.fixture
def out(first_set: Path, tmp_path: Path) -> Path:
    shutil.copytree(first_set, tmp_path / "out")
    return tmp_path / "out"


def test_compare_first_set_holds_the_tables_and_every_policy_folder(first_set: Path) -> None:
    expected = {"compare.csv", "compare.html"} | {f"{p}/{n}" for p in POLICIES for n in OUTPUT_FILES}
    assert set(tree(first_set / "compare")) == expected  # and no staging folder left


def test_compare_when_a_policy_folder_is_a_file_refuses_before_the_first_run(
    out: Path,
    tmp_path: Path,
    market_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The review's repro: the sixth policy's folder replaced by a file; the second comparison used to run
    five backtests, then fail, leaving December's tables beside November's folders."""
    target = out / "compare" / LAST
    shutil.rmtree(target)
    target.write_text("", encoding="utf-8")
    before = tree(out)

    def no_run(*_: object, **__: object) -> None:
        raise AssertionError("a policy ran before every target was checked")

    monkeypatch.setattr(compare, "run_backtest", no_run)
    monkeypatch.setattr(compare, "load_market", no_run)
    config = write_config(tmp_path, market_root)
    code = main(
        ["compare", "-c", str(config), "--start", "2025-11-24", "--end", "2025-11-28", "--out", str(out)]
    )
    line = refused(code, capsys)
    # the folder named whole: "none there is a file" read as English; --out as typed (it named out/compare)
    folder = str(out / "compare" / LAST)
    assert line == f"error: --out {str(out)!r}: {folder!r} is a file; expected a folder"
    assert tree(out) == before


def test_compare_when_a_policy_output_is_a_folder_refuses_before_the_first_run(
    out: Path,
    tmp_path: Path,
    market_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (out / "compare" / "none" / "report.html").unlink()
    (out / "compare" / "none" / "report.html").mkdir()
    monkeypatch.setattr(compare, "load_market", lambda *_, **__: pytest.fail("ran before the check"))
    code = main(["compare", "-c", str(write_config(tmp_path, market_root)), "--out", str(out)])
    line = refused(code, capsys)
    report = str(out / "compare" / "none" / "report.html")
    assert line == f"error: --out {str(out)!r}: {report!r} is a folder; expected a file"


def test_compare_when_interrupted_after_some_policies_keeps_the_previous_set_whole(
    out: Path, tmp_path: Path, market_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = tree(out)
    real_run = service.run_backtest
    runs: list[object] = []

    def interrupted_at_the_fourth(*args: object, **kwargs: object) -> object:
        runs.append(None)
        if len(runs) == 4:
            raise KeyboardInterrupt
        return real_run(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(compare, "run_backtest", interrupted_at_the_fourth)
    args = ["compare", "-c", str(write_config(tmp_path, market_root)), "--out", str(out)]
    assert main([*args, "--start", "2025-11-24", "--end", "2025-11-28"]) != 0  # Ctrl-C's exit
    assert len(runs) == 4
    assert tree(out) == before


def test_compare_when_run_again_replaces_the_tables_and_every_policy_folder(
    out: Path, tmp_path: Path, market_root: Path
) -> None:
    keep = out / "compare" / "none" / "notes.txt"
    keep.write_text("mine", encoding="utf-8")
    args = ["compare", "-c", str(write_config(tmp_path, market_root)), "--out", str(out)]
    assert main([*args, "--start", "2025-11-24", "--end", "2025-11-28"]) == 0
    for policy in POLICIES:
        summary = (out / "compare" / policy / "summary.json").read_text(encoding="utf-8")
        assert '"end": "2025-11-28"' in summary
    assert keep.read_text(encoding="utf-8") == "mine"  # a file of the user's in a policy folder stays
    assert not [p for p in (out / "compare").iterdir() if p.name.startswith(".")]


def test_compare_when_its_outputs_cannot_be_written_then_the_line_names_the_out_given(
    tmp_path: Path, market_root: Path
) -> None:
    """The review's repro: the line began ``--out 'x/compare'``, a folder the user never typed, and looked
    like a wrong option; it names the ``--out`` given, then the folder made in it where the writing failed."""
    out = tmp_path / "out"
    config = write_config(tmp_path, market_root)
    days = ["--start", "2025-12-01", "--end", "2025-12-05"]
    child = maemae_on_a_full_disk("compare", "-c", str(config), "--out", str(out), *days)
    assert child.returncode == 1, child.stderr
    assert one_error_line(child.stderr) == (
        f"error: --out {str(out)!r}: could not write the comparison's outputs in {str(out / 'compare')!r} "
        "(File too large); the files there are unchanged"
    )
    assert not out.exists()  # the folders the run made go with it


def test_compare_when_its_folder_in_out_is_read_only_then_the_line_names_that_folder(
    tmp_path: Path,
    market_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--out x`` writable but ``x/compare`` not: "no permission to create or write files there" sent the
    user to ``x``, where nothing is wrong."""
    out = tmp_path / "out"
    locked = out / "compare"
    locked.mkdir(parents=True)
    read_only_folder(locked, monkeypatch)
    monkeypatch.setattr(compare, "load_market", lambda *_, **__: pytest.fail("ran before the check"))
    try:
        code = main(["compare", "-c", str(write_config(tmp_path, market_root)), "--out", str(out)])
    finally:
        locked.chmod(0o755)
    line = refused(code, capsys)
    assert line == f"error: --out {str(out)!r}: no permission to create or write files in {str(locked)!r}"
