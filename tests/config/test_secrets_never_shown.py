"""A secret written into the config file, or pasted where the name of its environment variable belongs, is
refused in one line that names the field and never shows the value: the line reaches the terminal and the
logs (docs/live.md: secrets are named, never shown). Before, ``app_key = "..."`` was echoed as an unknown
field's value, and ``app_key_env = "<the key>"`` as the name of an unset variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from maemae.alerts.notifiers import secret_problems
from maemae.brokers.kis.auth import KisCredentials
from maemae.cli import main
from maemae.config import AlertsConfig
from maemae.config.broker import KisBrokerConfig
from maemae.config.operations import TelegramNotifier
from maemae.errors import ConfigError

SECRET = "PSkQ9x/3+real-app-key=="
NO_ENV = "its value not shown: secrets come from environment variables, never the config file"
NOT_A_NAME = "expected the name of an environment variable (letters, digits, _), not the secret itself"


def _checked(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> str:
    """``config check`` of ``text``: refused with exit 2; its one line, the secret in no output."""
    path = tmp_path / "cfg.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["config", "check", str(path)]) == 2
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    assert err.count("\n") == 1, err
    return err.removeprefix(f"error: {path}: ").rstrip("\n")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (
            f'[broker.kis]\napp_key = "{SECRET}"\n',
            f"broker.kis.app_key: unknown field, {NO_ENV}; set broker.kis.app_key_env to the variable's name",
        ),
        (
            f'[broker.kis]\nAPP_SECRET = "{SECRET}"\n',
            f"broker.kis.APP_SECRET: unknown field, {NO_ENV} (allowed: paper, app_key_env, app_secret_env, "
            "account_env, hts_id_env, product_code, base_url, ws_url, requests_per_second, "
            "rate_limit_retries, timeout_seconds, websocket, order_poll_seconds, token_cache)",
        ),
        (
            f'[[alerts.notifiers]]\nkind = "slack"\nwebhook_url = "{SECRET}"\n',
            f"alerts.notifiers.0.webhook_url: unknown field, {NO_ENV}; set "
            "alerts.notifiers.0.webhook_url_env to the variable's name",
        ),
        (f'[broker.kis]\napp_key_env = "{SECRET}"\n', f"broker.kis.app_key_env: {NOT_A_NAME}"),
        (f'[broker.kis]\naccount_env = "{SECRET}"\n', f"broker.kis.account_env: {NOT_A_NAME}"),
        (
            f'[[alerts.notifiers]]\nkind = "telegram"\nchat_id = "1"\ntoken_env = "{SECRET}"\n',
            f"alerts.notifiers.0.token_env: {NOT_A_NAME}",
        ),
        (
            '[[alerts.notifiers]]\nkind = "email"\nsmtp_host = "h"\nfrom_addr = "a@b"\nto_addrs = ["c@d"]\n'
            f'password_env = "{SECRET}"\n',
            f"alerts.notifiers.0.password_env: {NOT_A_NAME}",
        ),
    ],
)
def test_config_check_when_a_secret_is_in_the_file_then_one_line_without_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, line: str
) -> None:
    assert _checked(tmp_path, capsys, text) == line


def test_config_check_when_an_unknown_field_is_no_secret_then_its_value_is_still_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only a secret's value is hidden: a typo's value helps find it."""
    path = tmp_path / "cfg.toml"
    path.write_text("[broker.kis]\npaperr = true\n", encoding="utf-8")
    assert main(["config", "check", str(path)]) == 2
    assert "broker.kis.paperr = true: unknown field (allowed: paper, " in capsys.readouterr().err


def test_kis_credentials_when_a_variable_is_set_but_empty_then_it_is_called_empty() -> None:
    full = {"KIS_APP_KEY": "k", "KIS_APP_SECRET": "s", "KIS_ACCOUNT": "12345678", "KIS_HTS_ID": "me"}
    with pytest.raises(ConfigError) as raised:
        KisCredentials.from_environment(KisBrokerConfig(), {**full, "KIS_APP_KEY": ""})
    assert str(raised.value) == (
        "broker.kis.app_key_env: environment variable KIS_APP_KEY is empty "
        "(see docs/brokers/kis.md for where the value comes from)"
    )
    with pytest.raises(ConfigError) as raised:
        KisCredentials.from_environment(KisBrokerConfig(), {"KIS_APP_KEY": " ", "KIS_ACCOUNT": "12345678"})
    assert str(raised.value) == (
        "broker.kis: environment variables KIS_APP_SECRET, KIS_HTS_ID are not set and KIS_APP_KEY is empty "
        "(see docs/brokers/kis.md for where the values come from)"
    )


def test_secret_problems_when_a_variable_is_set_but_empty_then_it_is_called_empty() -> None:
    config = AlertsConfig(notifiers=(TelegramNotifier(kind="telegram", chat_id="1"),))
    assert secret_problems(config, {"MAEMAE_TELEGRAM_TOKEN": ""}) == [
        "alerts.notifiers telegram.token_env: environment variable MAEMAE_TELEGRAM_TOKEN is empty"
    ]
