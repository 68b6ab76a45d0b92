"""Config of the operating surface: the state store, alerts, the web dashboard and logging."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator

from maemae.config.base import DAY_SECONDS, EnvName, FilePath, FolderPath, Section

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

DEFAULT_STORE_URL = "sqlite:///var/maemae.db"
_BACKENDS = ("sqlite", "postgresql")


class StoreConfig(Section):
    url: str = Field(DEFAULT_STORE_URL, description="SQLAlchemy URL of the state database")

    @field_validator("url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        """Refuse a URL the store cannot open now, in ``maemae config check``, not in the first command that
        opens the store. The default is known good and skipped: parsing it would import SQLAlchemy into
        every command, ``maemae --help`` included."""
        if value == DEFAULT_STORE_URL:
            return value
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            parsed = make_url(value)
            backend = parsed.get_backend_name()
        except (ArgumentError, ValueError):  # ValueError: a port that is not a number
            raise ValueError(
                "expected a SQLAlchemy URL such as sqlite:///var/maemae.db or postgresql://user@host/maemae"
            ) from None
        if backend not in _BACKENDS:
            raise ValueError(f"expected a sqlite:// or postgresql:// URL, not {backend}://")
        if in_memory(parsed):  # a trading run on it would save nothing to go on from, and lock nothing
            raise ValueError(IN_MEMORY_REFUSAL)
        return value


IN_MEMORY_REFUSAL = (
    "an in-memory database keeps nothing after the command: expected a file, e.g. sqlite:///var/maemae.db"
)


def in_memory(url: URL) -> bool:
    """Whether ``url`` is an SQLite database in the process's memory, gone when it ends."""
    return url.get_backend_name() == "sqlite" and (
        url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"
    )


class LogNotifier(Section):
    kind: Literal["log"] = "log"


class SlackNotifier(Section):
    kind: Literal["slack"]
    webhook_url_env: EnvName = Field(
        "MAEMAE_SLACK_WEBHOOK", description="environment variable with the webhook URL"
    )


class EmailNotifier(Section):
    kind: Literal["email"]
    smtp_host: str
    smtp_port: int = Field(587, ge=1, le=65_535)
    starttls: bool = True
    from_addr: str
    to_addrs: tuple[str, ...] = Field(min_length=1)
    username_env: EnvName | None = None
    password_env: EnvName | None = Field(None, description="environment variable with the SMTP password")


class TelegramNotifier(Section):
    kind: Literal["telegram"]
    token_env: EnvName = Field("MAEMAE_TELEGRAM_TOKEN", description="environment variable with the bot token")
    chat_id: str
    api_url: str = Field("https://api.telegram.org", description="the Bot API's address")


Notifier = Annotated[
    LogNotifier | SlackNotifier | EmailNotifier | TelegramNotifier, Field(discriminator="kind")
]


class AlertsConfig(Section):
    notifiers: tuple[Notifier, ...] = (LogNotifier(),)
    min_interval_s: int = Field(
        60, ge=0, le=DAY_SECONDS, description="the same alert is sent at most once per this interval"
    )
    retries: int = Field(5, ge=0, le=20, description="tries after a notifier fails, with backoff")
    retry_backoff_s: float = Field(
        2.0, gt=0, le=300, description="first wait before a failed notifier is tried again"
    )
    fills: bool = Field(True, description="send an alert for every fill")


class ReportConfig(Section):
    """The end-of-day report (docs/operations.md): written after the close of every paper and live day."""

    dir: FolderPath | None = Field(
        None,
        description="where DAY.html and DAY.txt are written; None: a folder of the store's own, "
        "reports/NAME next to a SQLite state database NAME.db, else var/reports/HOST-DATABASE",
    )
    lang: Literal["ko", "en"] = Field("ko", description="language of the report and its alert")
    compare_backtest: bool = Field(
        True, description="add the backtest of the same day (started flat) for comparison"
    )


class WebConfig(Section):
    """The dashboard (``maemae dashboard``, docs/operations.md)."""

    host: str = Field("127.0.0.1", description="address the dashboard binds to (localhost only by default)")
    port: int = Field(8700, ge=1, le=65_535)
    token_file: FilePath = Field(
        Path("var/web-token"), description="access token, created on first start, readable by its owner only"
    )
    lang: Literal["ko", "en"] = Field("ko", description="labels of the dashboard (?lang=en switches)")
    run_args: list[str] = Field(
        default_factory=list,
        description="what the Start button runs: `maemae run --config <this file>` with these arguments",
    )


class LoggingConfig(Section):
    dir: FolderPath = Field(
        Path("var/log"), description="JSON-lines log files, one per KST day (made with the first record)"
    )
    level: Literal["debug", "info", "warning", "error"] = "info"
    console: bool = Field(
        True,
        description="also print readable log lines to the terminal (but for what the command says itself, "
        "in a warning: or error: line)",
    )
    console_level: Literal["debug", "info", "warning", "error"] = Field(
        "warning", description="the least level printed to the terminal (the file gets every record of level)"
    )
