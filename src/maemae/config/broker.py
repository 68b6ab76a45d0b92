"""Broker config: which adapter trades (sim, KIS, Creon) and its settings. Secrets are never in the file:
the file names the environment variables that hold them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from maemae.config.base import EnvName, FilePath, Section


class SimBrokerConfig(Section):
    fill_at: Literal["next_open", "next_close"] = Field(
        "next_open", description="price a market order decided on bar t fills at, on bar t+1"
    )
    slippage_ticks: int = Field(0, ge=0, le=20, description="ticks against the order on every market fill")
    max_volume_share: Decimal = Field(
        Decimal("0.1"), gt=0, le=1, description="largest share of a bar's volume one order may take"
    )


class KisBrokerConfig(Section):
    paper: bool = Field(True, description="use KIS's paper-trading (모의투자) server")
    app_key_env: EnvName = Field("KIS_APP_KEY", description="environment variable holding the app key")
    app_secret_env: EnvName = Field(
        "KIS_APP_SECRET", description="environment variable holding the app secret"
    )
    account_env: EnvName = Field("KIS_ACCOUNT", description="environment variable holding the account number")
    hts_id_env: EnvName = Field(
        "KIS_HTS_ID", description="environment variable holding the HTS user id (key of the fill notices)"
    )
    product_code: str = Field("01", pattern=r"^\d{2}$", description="account product code")
    base_url: str | None = Field(None, description="REST base URL; None picks KIS's real or paper server")
    ws_url: str | None = Field(None, description="WebSocket URL; None picks KIS's real or paper server")
    requests_per_second: int = Field(
        2, ge=1, le=1000, description="REST budget: KIS allows 20/s real and about 2/s paper"
    )
    rate_limit_retries: int = Field(
        5, ge=0, le=20, description="retries with backoff after KIS answers EGW00201 (over the rate limit)"
    )
    timeout_seconds: float = Field(10.0, gt=0, le=120, description="REST request timeout")
    websocket: bool = Field(True, description="use the WebSocket for trades and fill notices")
    order_poll_seconds: float = Field(
        10.0, gt=0, le=300, description="with no WebSocket, how often working orders are queried by REST"
    )
    token_cache: FilePath = Field(
        Path("var/kis-token.json"), description="access token cache (owner-only file)"
    )

    def secret_variables(self) -> tuple[str, ...]:
        """The environment variables that hold the KIS secrets (``KisCredentials.from_environment``)."""
        return (self.app_key_env, self.app_secret_env, self.account_env, self.hts_id_env)

    @model_validator(mode="after")
    def _both_urls_or_neither(self) -> KisBrokerConfig:
        """Each URL left unset falls back to KIS's own host: a file pointing ``base_url`` at a local server
        but forgetting ``ws_url`` would send the approval key and the HTS id to the real KIS WebSocket (and
        the other way round, the keys to KIS's REST server). Two servers are never meant: refuse it."""
        if (self.base_url is None) != (self.ws_url is None):
            given, missing = ("base_url", "ws_url") if self.ws_url is None else ("ws_url", "base_url")
            raise ValueError(
                f"{given} = {getattr(self, given)!r} but {missing} is not set: set both (the REST and the "
                "WebSocket address of the same server) or neither (KIS's own servers)"
            )
        return self


class CreonBrokerConfig(Section):
    """Daishin Creon Plus (docs/brokers/creon.md): Windows, 32-bit Python, pywin32, Creon Plus logged in."""

    account: str | None = Field(None, description="account number; None takes the first signed-in account")
    product_flag: str | None = Field(
        None, description="stock product code of the account (CpTdUtil.GoodsList); None takes the first"
    )
    order_sync_seconds: float = Field(
        60.0,
        gt=0,
        le=600,
        description="how often the day's orders are re-read while orders work (safety net)",
    )


class BrokerConfig(Section):
    kind: Literal["sim", "kis", "creon"] = Field("sim", description="which broker adapter trades")
    sim: SimBrokerConfig = SimBrokerConfig()
    kis: KisBrokerConfig = KisBrokerConfig()
    creon: CreonBrokerConfig = CreonBrokerConfig()

    @property
    def needs_kis_secrets(self) -> bool:
        """Whether a day on the clock reads the KIS secrets: with every broker but Creon it uses KIS (its
        orders, or its prices for the simulator). Creon keeps no secret here: its account is the one logged
        in to Creon Plus."""
        return self.kind != "creon"
