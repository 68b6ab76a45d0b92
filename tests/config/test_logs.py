import json
from pathlib import Path

import pytest
import structlog

from maemae.config import LoggingConfig
from maemae.errors import ConfigError
from maemae.logs import configure_logging


def test_configure_logging_when_event_logged_writes_one_json_line_with_context(tmp_path: Path) -> None:
    sink = configure_logging(LoggingConfig(dir=tmp_path, console=False))
    try:
        structlog.get_logger().info("order_sent", order_id="o1", code="005930", reason="rsi cross")
        structlog.get_logger().debug("hidden")
    finally:
        sink.close()
    files = list(tmp_path.glob("maemae-*.jsonl"))
    assert len(files) == 1
    records = [json.loads(line) for line in files[0].read_text(encoding="utf-8").splitlines()]
    assert len(records) == 1
    record = records[0]
    assert (record["event"], record["order_id"], record["code"], record["level"]) == (
        "order_sent",
        "o1",
        "005930",
        "info",
    )
    assert record["ts"].endswith("+09:00")
    assert files[0].name == f"maemae-{record['ts'][:10]}.jsonl"


def test_configure_logging_when_nothing_is_logged_then_no_folder_is_made(tmp_path: Path) -> None:
    """A command refused on its input after it configured logging used to leave an empty log folder behind:
    the folder was made as logging was configured, not when the first record came."""
    folder = tmp_path / "var" / "log"
    sink = configure_logging(LoggingConfig(dir=folder, console=False))
    try:
        assert not (tmp_path / "var").exists()
        structlog.get_logger().info("first_record")
        assert len(list(folder.glob("maemae-*.jsonl"))) == 1
    finally:
        sink.close()


def test_configure_logging_when_the_folder_could_not_be_made_then_refused_and_nothing_made(
    tmp_path: Path,
) -> None:
    (tmp_path / "afile").write_text("a file, not a folder\n", encoding="utf-8")
    folder = tmp_path / "afile" / "log"
    with pytest.raises(ConfigError) as refused:
        configure_logging(LoggingConfig(dir=folder))
    assert (
        str(refused.value) == f"logging.dir '{folder}': '{tmp_path / 'afile'}' is a file; expected a folder"
    )
    elsewhere = tmp_path / "a" / "b"
    configure_logging(LoggingConfig(dir=elsewhere, console=False)).close()  # can be made: made by a record
    assert not (tmp_path / "a").exists()


def test_console_when_a_record_was_shown_to_the_user_then_only_the_file_has_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A warning the command also says in a ``warning:`` line of its own was printed twice on the terminal:
    once by the console log handler, once by the command."""
    sink = configure_logging(LoggingConfig(dir=tmp_path, console=True, console_level="warning"))
    try:
        structlog.get_logger().warning("told_already", code="005930", shown=True)
        structlog.get_logger().warning("not_told", code="000660")
    finally:
        sink.close()
    console = capsys.readouterr().err
    assert "not_told" in console
    assert "told_already" not in console
    records = [
        json.loads(line) for line in next(tmp_path.glob("maemae-*.jsonl")).read_text("utf-8").splitlines()
    ]
    assert [(r["event"], r["code"]) for r in records] == [("told_already", "005930"), ("not_told", "000660")]
    assert all("shown" not in record for record in records)  # the file's records are as they always were
