"""Alerts to a real local SMTP server and a real local HTTP receiver (standing in for Slack and Telegram):
delivery, retries with backoff, never blocking the sender, and the rate limit."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from maemae.alerts.dispatcher import AlertDispatcher
from maemae.alerts.messages import Alert, AlertKind
from maemae.alerts.notifiers import EmailSender, SlackWebhook, TelegramBot, build_notifiers
from maemae.cli import main
from maemae.config.operations import AlertsConfig, EmailNotifier, SlackNotifier, TelegramNotifier
from maemae.domain.clock_time import KST
from maemae.errors import ConfigError
from tests.engine.test_paper import _config

AT = datetime(2025, 12, 3, 10, 30, tzinfo=KST)


def alert(title: str = "stop loss sell 10 005930", key: str = "") -> Alert:
    return Alert(AlertKind.STOP, title, "price fell 1.5 % below cost", AT, key)


class Receiver:
    """A local HTTP server recording JSON posts; it can fail the first N and be slow."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.fail_first = 0
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                time.sleep(receiver.delay)
                if receiver.fail_first:
                    receiver.fail_first -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.posts.append((self.path, body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.server.shutdown()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Mailbox]]:
    mailbox = Mailbox()
    with socket.socket() as probe:  # a free port (the controller checks its own port, so 0 will not do)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, mailbox
    controller.stop()


def test_alerts_when_sent_then_delivered_to_slack_telegram_and_email(
    receiver: Receiver, smtp: tuple[Controller, Mailbox]
) -> None:
    controller, mailbox = smtp
    email = EmailNotifier(
        kind="email",
        smtp_host="127.0.0.1",
        smtp_port=controller.port,
        starttls=False,
        from_addr="maemae@localhost",
        to_addrs=("trader@localhost",),
    )
    dispatcher = AlertDispatcher(
        [
            SlackWebhook(receiver.url + "/slack"),
            TelegramBot("123:abc", "42", receiver.url),
            EmailSender(email, None, None),
        ]
    )
    dispatcher.send(alert())
    assert dispatcher.flush(10)
    dispatcher.close()
    paths = {path: body for path, body in receiver.posts}
    assert paths["/slack"]["text"].startswith("*[maemae] stop: stop loss sell 10 005930*")
    assert paths["/bot123:abc/sendMessage"]["chat_id"] == "42"
    assert "price fell 1.5 % below cost" in paths["/bot123:abc/sendMessage"]["text"]
    ((recipients, message),) = mailbox.messages
    assert recipients == ["trader@localhost"]
    assert message["Subject"] == "[maemae] stop: stop loss sell 10 005930"
    assert "2025-12-03 10:30:00 KST" in message.get_payload()
    assert dispatcher.stats.sent == 3


def test_alerts_when_notifier_fails_then_retried_with_backoff_and_others_unaffected(
    receiver: Receiver,
) -> None:
    waits: list[float] = []
    receiver.fail_first = 2
    dispatcher = AlertDispatcher(
        [SlackWebhook(receiver.url + "/slack")], retry_backoff_s=1.0, sleep=waits.append
    )
    dispatcher.send(alert())
    assert dispatcher.flush(10)
    assert waits == [1.0, 2.0]
    assert dispatcher.stats.retried == 2
    assert dispatcher.stats.sent == 1
    assert len(receiver.posts) == 1
    receiver.fail_first = 100
    dispatcher.send(alert("another"))
    assert dispatcher.flush(10)
    assert dispatcher.stats.failed == 1  # given up after the retries, logged, nothing raised
    dispatcher.close()


def test_alerts_when_notifier_is_slow_then_send_returns_at_once(receiver: Receiver) -> None:
    receiver.delay = 1.0
    dispatcher = AlertDispatcher([SlackWebhook(receiver.url + "/slack")])
    started = time.perf_counter()
    for number in range(5):
        dispatcher.send(alert(f"fill {number}"))
    assert time.perf_counter() - started < 0.05  # the trading loop never waits for delivery
    assert dispatcher.flush(20)
    assert len(receiver.posts) == 5
    dispatcher.close()


def test_alerts_when_the_same_alert_repeats_then_rate_limited_and_counted(receiver: Receiver) -> None:
    now = [0.0]
    dispatcher = AlertDispatcher(
        [SlackWebhook(receiver.url + "/slack")], min_interval_s=60, monotonic=lambda: now[0]
    )
    for _ in range(5):
        dispatcher.send(alert("broker connection lost"))
        now[0] += 5
    dispatcher.send(alert("a different one"))
    now[0] = 61
    dispatcher.send(alert("broker connection lost"))
    assert dispatcher.flush(10)
    dispatcher.close()
    texts = [body["text"] for _, body in receiver.posts]
    assert len(texts) == 3
    assert dispatcher.suppressed == 4
    assert "(4 more like this were held back by the rate limit)" in texts[2]


def test_notifiers_when_a_secret_is_missing_then_one_line_error() -> None:
    config = AlertsConfig(notifiers=(SlackNotifier(kind="slack"),))
    with pytest.raises(ConfigError, match="environment variable MAEMAE_SLACK_WEBHOOK is not set"):
        build_notifiers(config, {})
    telegram = AlertsConfig(notifiers=(TelegramNotifier(kind="telegram", chat_id="1"),))
    with pytest.raises(ConfigError, match="MAEMAE_TELEGRAM_TOKEN"):
        build_notifiers(telegram, {})
    assert [n.name for n in build_notifiers(config, {"MAEMAE_SLACK_WEBHOOK": "http://127.0.0.1:9/x"})] == [
        "slack"
    ]


def test_paper_day_when_alerts_configured_then_fills_and_the_day_report_reach_slack(
    market_root: Path,
    tmp_path: Path,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = _config(market_root, tmp_path)
    with config.open("a", encoding="utf-8") as toml:
        toml.write('\n[alerts]\nmin_interval_s = 0\n\n[[alerts.notifiers]]\nkind = "slack"\n')
    monkeypatch.setenv("MAEMAE_SLACK_WEBHOOK", receiver.url + "/slack")
    assert main(["paper", "--config", str(config), "--replay", "2025-12-03", "--speed", "0"]) == 0
    texts = [body["text"] for _, body in receiver.posts]
    assert any(t.startswith("*[maemae] fill: buy ") for t in texts)
    assert any(t.startswith("*[maemae] stop: ") for t in texts)  # the config's stops sold something
    report = [t for t in texts if t.startswith("*[maemae] report: 2025-12-03 closed*")]
    assert len(report) == 1
    assert "orders " in report[0]
    assert "equity " in report[0]
    capsys.readouterr()


@pytest.mark.parametrize("command", ["paper", "run"])
def test_day_when_a_notifier_secret_is_missing_then_refused_before_anything_is_written(
    market_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    """Nor the store's lock file: the secret is read before the lock is taken."""
    config = _config(market_root, tmp_path)
    config.write_text('mode = "paper"\n' + config.read_text(encoding="utf-8"), encoding="utf-8")
    with config.open("a", encoding="utf-8") as toml:
        toml.write('\n[[alerts.notifiers]]\nkind = "slack"\n')
    monkeypatch.delenv("MAEMAE_SLACK_WEBHOOK", raising=False)
    speed = ["--speed", "0"] if command == "paper" else []
    assert main([command, "--config", str(config), "--replay", "2025-12-03", *speed]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: alerts.notifiers slack.webhook_url_env: environment variable MAEMAE_SLACK_WEBHOOK is not set"
    ]
    assert not list(tmp_path.glob("state.db*"))  # neither the database nor its lock file
