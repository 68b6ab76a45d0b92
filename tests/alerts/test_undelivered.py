"""Alerts to a notifier that cannot be reached are never dropped without a word: what is still queued or being
retried when the dispatcher closes is logged (``alert_undelivered``), and closing does not wait out the
retries' backoff. The webhook is a real closed port on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import time
from datetime import datetime
from pathlib import Path

import pytest
import structlog

from maemae.alerts.dispatcher import AlertDispatcher
from maemae.alerts.messages import Alert, AlertKind
from maemae.alerts.notifiers import LogSink, SlackWebhook
from maemae.cli import main
from maemae.domain.clock_time import KST
from tests.engine.test_paper import _config

AT = datetime(2025, 12, 3, 10, 30, tzinfo=KST)


def closed_port() -> int:
    """A port nothing listens on: bound once to be free, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_close_when_the_webhook_is_dead_then_every_undelivered_alert_is_counted_in_one_record() -> None:
    dead = SlackWebhook(f"http://127.0.0.1:{closed_port()}/slack")
    dispatcher = AlertDispatcher([dead, LogSink()], min_interval_s=0, retries=5, retry_backoff_s=2.0)
    alerts = [Alert(AlertKind.FILL, f"buy 10 00593{n}", "filled", AT) for n in range(8)]
    with structlog.testing.capture_logs() as records:
        for alert in alerts:
            dispatcher.send(alert)
        started = time.monotonic()
        dispatcher.close(1.0)
        took = time.monotonic() - started
    assert took < 5, "close waited out the retries' backoff (2 + 4 + 8 + 16 + 32 s)"
    undelivered = [r for r in records if r["event"] == "alert_undelivered"]
    assert len(undelivered) == 1
    (record,) = undelivered
    assert record["notifier"] == "slack"
    assert record["log_level"] == "error"
    assert record["count"] == len(alerts)
    assert record["kinds"] == {"fill": len(alerts)}
    assert record["titles"] == [a.title for a in alerts[:5]]
    assert "ConnectError" in record["last_error"]
    assert dispatcher.stats.undelivered == len(alerts)
    assert dispatcher.stats.sent == len(alerts)  # the log notifier got them all: nothing else was lost
    assert not [r for r in records if r["event"] == "alert_failed"]


def test_close_when_every_alert_was_delivered_then_nothing_is_reported_undelivered() -> None:
    dispatcher = AlertDispatcher([LogSink()], min_interval_s=0)
    with structlog.testing.capture_logs() as records:
        dispatcher.send(Alert(AlertKind.FILL, "buy", "filled", AT))
        dispatcher.close(5.0)
    assert [r["event"] for r in records] == ["alert"]
    assert dispatcher.stats.undelivered == 0


def test_paper_day_when_the_slack_webhook_is_dead_then_the_log_accounts_for_every_alert(
    market_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(market_root, tmp_path)
    with config.open("a", encoding="utf-8") as toml:
        toml.write(
            f'\n[logging]\ndir = "{tmp_path}/log"\nconsole = false\n'
            '\n[alerts]\nmin_interval_s = 0\n\n[[alerts.notifiers]]\nkind = "log"\n'
            '\n[[alerts.notifiers]]\nkind = "slack"\n'
        )
    monkeypatch.setenv("MAEMAE_SLACK_WEBHOOK", f"http://127.0.0.1:{closed_port()}/slack")
    assert main(["paper", "--config", str(config), "--replay", "2025-12-03", "--speed", "0"]) == 0
    capsys.readouterr()
    records = [
        json.loads(line)
        for path in sorted((tmp_path / "log").glob("maemae-*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    sent = [r for r in records if r["event"] == "alert"]  # what the log notifier delivered: every alert
    failed = [r for r in records if r["event"] == "alert_failed" and r["notifier"] == "slack"]
    undelivered = [r for r in records if r["event"] == "alert_undelivered"]
    assert len(sent) > 5
    assert [r["notifier"] for r in undelivered] == ["slack"]
    # every alert the dead webhook was given is either given up on or counted at close: none vanished
    assert len(failed) + undelivered[0]["count"] == len(sent)
