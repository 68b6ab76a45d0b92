"""The alerts' secrets are checked before a run makes anything: an unset variable or a Slack webhook that is
no URL is refused in one line each, naming the variable but never its value (a webhook URL is a secret), and
``config check`` warns of them; before, a malformed webhook was found only when the first alert failed."""

from __future__ import annotations

from pathlib import Path

import pytest

from maemae.alerts.notifiers import build_notifiers, secret_problems
from maemae.cli import main
from maemae.config.operations import AlertsConfig, EmailNotifier, SlackNotifier, TelegramNotifier
from maemae.errors import ConfigError
from tests.market_config import market_toml
from tests.user_errors import one_error_line

SLACK = '\n[[alerts.notifiers]]\nkind = "slack"\n'


def test_secret_problems_when_unset_or_not_a_url_then_one_line_each_without_the_value() -> None:
    config = AlertsConfig(
        notifiers=(
            SlackNotifier(kind="slack"),
            TelegramNotifier(kind="telegram", chat_id="1"),
            EmailNotifier(
                kind="email", smtp_host="h", from_addr="a@b", to_addrs=("c@d",), password_env="SMTP_PASS"
            ),
        )
    )
    assert secret_problems(config, {"MAEMAE_SLACK_WEBHOOK": "hooks.slack.com/services/T0/SECRET"}) == [
        "alerts.notifiers slack.webhook_url_env: environment variable MAEMAE_SLACK_WEBHOOK holds no http(s) "
        "URL; expected the webhook's address, https://hooks.slack.com/services/...",
        "alerts.notifiers telegram.token_env: environment variable MAEMAE_TELEGRAM_TOKEN is not set",
        "alerts.notifiers email.password_env: environment variable SMTP_PASS is not set",
    ]
    with pytest.raises(ConfigError) as raised:
        build_notifiers(config, {"MAEMAE_SLACK_WEBHOOK": "not-a-url", "MAEMAE_TELEGRAM_TOKEN": "t"})
    assert str(raised.value).splitlines() == [
        "alerts.notifiers slack.webhook_url_env: environment variable MAEMAE_SLACK_WEBHOOK holds no http(s) "
        "URL; expected the webhook's address, https://hooks.slack.com/services/...",
        "alerts.notifiers email.password_env: environment variable SMTP_PASS is not set",
    ]
    good = {
        "MAEMAE_SLACK_WEBHOOK": " https://hooks.slack.com/services/T0/B0/x ",
        "MAEMAE_TELEGRAM_TOKEN": "t",
    }
    assert secret_problems(config, {**good, "SMTP_PASS": "p"}) == []


def test_paper_when_the_webhook_is_not_a_url_then_refused_before_anything_is_made(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAEMAE_SLACK_WEBHOOK", "not-a-url")
    config = tmp_path / "c.toml"
    config.write_text(
        market_toml(market_root, mode="paper")
        + f'\n[store]\nurl = "sqlite:///{tmp_path}/state.db"\n'
        + SLACK,
        encoding="utf-8",
    )
    assert main(["paper", "--config", str(config), "--replay", "2025-12-03", "--speed", "0"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line == (
        "error: alerts.notifiers slack.webhook_url_env: environment variable MAEMAE_SLACK_WEBHOOK holds no "
        "http(s) URL; expected the webhook's address, https://hooks.slack.com/services/..."
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml"]


def test_config_check_when_an_alert_secret_is_unset_then_ok_with_a_warning(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MAEMAE_SLACK_WEBHOOK", raising=False)
    config = tmp_path / "c.toml"
    config.write_text(market_toml(market_root, mode="paper") + SLACK, encoding="utf-8")
    assert main(["config", "check", str(config)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(f"ok: {config}")
    assert (
        "warning: alerts.notifiers slack.webhook_url_env: environment variable MAEMAE_SLACK_WEBHOOK is not "
        "set; `maemae paper`, `run` and `live` refuse to start without it"
    ) in captured.err.splitlines()
    # a backtest sends no alert: nothing to warn of
    config.write_text(market_toml(market_root) + SLACK, encoding="utf-8")
    assert main(["config", "check", str(config)]) == 0
    assert "alerts" not in capsys.readouterr().err
