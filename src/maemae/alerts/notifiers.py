"""Notifiers: where alerts go. Each one sends one alert or raises; retries and rate limits are the
dispatcher's (``alerts.dispatcher``). Secrets (webhook URLs, tokens, passwords) come from the environment
variables the config names."""

from __future__ import annotations

import os
import smtplib
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Protocol

import httpx
import structlog

from maemae.alerts.messages import Alert, AlertKind
from maemae.config.operations import (
    AlertsConfig,
    EmailNotifier,
    LogNotifier,
    SlackNotifier,
    TelegramNotifier,
)
from maemae.errors import ConfigError

log = structlog.get_logger("maemae.alerts")
TIMEOUT = 10.0


class Notifier(Protocol):
    name: str

    def deliver(self, alert: Alert, suppressed: int) -> None: ...


class LogSink:
    """Alerts into maemae's log: problems as warnings, news (fills, stops, the report) as information."""

    name = "log"
    _WARNINGS = frozenset({AlertKind.ERROR, AlertKind.HALT, AlertKind.RECONCILIATION})

    def deliver(self, alert: Alert, suppressed: int) -> None:
        write = log.warning if alert.kind in self._WARNINGS else log.info
        write(
            "alert",
            kind=alert.kind.value,
            title=alert.title,
            text=alert.text,
            suppressed=suppressed,
            shown=alert.shown,
        )


class SlackWebhook:
    name = "slack"

    def __init__(self, url: str) -> None:
        self._url = url

    def deliver(self, alert: Alert, suppressed: int) -> None:
        response = httpx.post(
            self._url, json={"text": f"*{alert.subject()}*\n{alert.body(suppressed)}"}, timeout=TIMEOUT
        )
        response.raise_for_status()


class TelegramBot:
    name = "telegram"

    def __init__(self, token: str, chat_id: str, api_url: str) -> None:
        self._url = f"{api_url.rstrip('/')}/bot{token}/sendMessage"
        self._chat_id = chat_id

    def deliver(self, alert: Alert, suppressed: int) -> None:
        text = f"{alert.subject()}\n{alert.body(suppressed)}"
        response = httpx.post(self._url, json={"chat_id": self._chat_id, "text": text}, timeout=TIMEOUT)
        response.raise_for_status()


class EmailSender:
    name = "email"

    def __init__(self, config: EmailNotifier, username: str | None, password: str | None) -> None:
        self._config, self._username, self._password = config, username, password

    def deliver(self, alert: Alert, suppressed: int) -> None:
        config = self._config
        message = EmailMessage()
        message["Subject"] = alert.subject()
        message["From"] = config.from_addr
        message["To"] = ", ".join(config.to_addrs)
        message.set_content(alert.body(suppressed))
        with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=TIMEOUT) as smtp:
            if config.starttls:
                smtp.starttls()
            if self._username and self._password:
                smtp.login(self._username, self._password)
            smtp.send_message(message)


def build_notifiers(config: AlertsConfig, environ: Mapping[str, str] | None = None) -> list[Notifier]:
    """The notifiers the config lists; a missing secret is a one-line error naming its variable."""
    env = os.environ if environ is None else environ

    def secret(field: str, variable: str) -> str:
        value = env.get(variable, "").strip()
        if not value:
            raise ConfigError(f"alerts.notifiers {field}: environment variable {variable} is not set")
        return value

    notifiers: list[Notifier] = []
    for item in config.notifiers:
        if isinstance(item, LogNotifier):
            notifiers.append(LogSink())
        elif isinstance(item, SlackNotifier):
            notifiers.append(SlackWebhook(secret("slack.webhook_url_env", item.webhook_url_env)))
        elif isinstance(item, TelegramNotifier):
            token = secret("telegram.token_env", item.token_env)
            notifiers.append(TelegramBot(token, item.chat_id, item.api_url))
        else:
            username = secret("email.username_env", item.username_env) if item.username_env else None
            password = secret("email.password_env", item.password_env) if item.password_env else None
            notifiers.append(EmailSender(item, username, password))
    return notifiers
