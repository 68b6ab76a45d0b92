"""Notifiers: where alerts go. Each one sends one alert or raises; retries and rate limits are the
dispatcher's (``alerts.dispatcher``). Secrets (webhook URLs, tokens, passwords) come from the environment
variables the config names."""

from __future__ import annotations

import os
import smtplib
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import urlsplit

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
from maemae.wording import unset_variables

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


def secret_problems(config: AlertsConfig, environ: Mapping[str, str] | None = None) -> list[str]:
    """Every secret the notifiers need that is unset in the environment, or a Slack webhook that is no
    http(s) URL, one line each naming the variable (never its value: a webhook URL is a secret). A run
    refuses to start on them (a bad webhook was found only when the first alert failed, at best at the
    close); ``config check`` warns of them."""
    env = os.environ if environ is None else environ
    problems: list[str] = []
    for item in config.notifiers:
        for field, variable in _secret_variables(item):
            value = env.get(variable, "").strip()
            if not value:
                said = unset_variables([variable], env)
                problems.append(f"alerts.notifiers {field}: environment variable {said}")
            elif isinstance(item, SlackNotifier) and not _is_web_address(value):
                problems.append(
                    f"alerts.notifiers {field}: environment variable {variable} holds no http(s) URL; "
                    "expected the webhook's address, https://hooks.slack.com/services/..."
                )
    return problems


def _secret_variables(
    item: LogNotifier | SlackNotifier | EmailNotifier | TelegramNotifier,
) -> list[tuple[str, str]]:
    """The (field, environment variable) pairs of one notifier's secrets."""
    if isinstance(item, SlackNotifier):
        return [("slack.webhook_url_env", item.webhook_url_env)]
    if isinstance(item, TelegramNotifier):
        return [("telegram.token_env", item.token_env)]
    if isinstance(item, EmailNotifier):
        named = (("email.username_env", item.username_env), ("email.password_env", item.password_env))
        return [(field, variable) for field, variable in named if variable]
    return []


def _is_web_address(text: str) -> bool:
    parsed = urlsplit(text)
    return parsed.scheme in ("http", "https") and bool(parsed.hostname)


def build_notifiers(config: AlertsConfig, environ: Mapping[str, str] | None = None) -> list[Notifier]:
    """The notifiers the config lists; a missing or malformed secret is a one-line error naming its variable
    (every such problem, one line each)."""
    env = os.environ if environ is None else environ
    problems = secret_problems(config, env)
    if problems:
        raise ConfigError("\n".join(problems))

    def secret(variable: str) -> str:
        return env[variable].strip()

    notifiers: list[Notifier] = []
    for item in config.notifiers:
        if isinstance(item, LogNotifier):
            notifiers.append(LogSink())
        elif isinstance(item, SlackNotifier):
            notifiers.append(SlackWebhook(secret(item.webhook_url_env)))
        elif isinstance(item, TelegramNotifier):
            notifiers.append(TelegramBot(secret(item.token_env), item.chat_id, item.api_url))
        else:
            username = secret(item.username_env) if item.username_env else None
            password = secret(item.password_env) if item.password_env else None
            notifiers.append(EmailSender(item, username, password))
    return notifiers
