import json
from pathlib import Path

import structlog

from maemae.config import LoggingConfig
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
