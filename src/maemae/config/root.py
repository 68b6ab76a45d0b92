"""``MaemaeConfig``: the root of one config file, one section per component (DESIGN 1.8)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from maemae.config.base import Section
from maemae.config.broker import BrokerConfig
from maemae.config.execution import BacktestConfig, ExecutionConfig
from maemae.config.market import CalendarConfig, CostsConfig, DataConfig, UniverseConfig
from maemae.config.operations import AlertsConfig, LoggingConfig, ReportConfig, StoreConfig, WebConfig
from maemae.config.risk import RiskConfig
from maemae.config.strategies import StrategiesConfig
from maemae.errors import ConfigError


class MaemaeConfig(Section):
    mode: Literal["backtest", "paper", "live"] = Field(
        "backtest", description="live sends real orders, and only after a person confirms the first one"
    )
    broker: BrokerConfig = BrokerConfig()
    data: DataConfig = DataConfig()
    universe: UniverseConfig = UniverseConfig()
    calendar: CalendarConfig = CalendarConfig()
    costs: CostsConfig = CostsConfig()
    strategies: StrategiesConfig = StrategiesConfig()
    risk: RiskConfig = RiskConfig()
    execution: ExecutionConfig = ExecutionConfig()
    backtest: BacktestConfig = BacktestConfig()
    store: StoreConfig = StoreConfig()
    alerts: AlertsConfig = AlertsConfig()
    report: ReportConfig = ReportConfig()
    web: WebConfig = WebConfig()
    logging: LoggingConfig = LoggingConfig()

    @model_validator(mode="after")
    def _bars_fit_the_minute_strategy(self) -> MaemaeConfig:
        minute = self.strategies.minute
        if self.backtest.bars == "day" and minute is not None and minute.class_ == "rsi_minute":
            raise ValueError(
                "backtest.bars = 'day': strategies.minute.class = 'rsi_minute' needs minute bars; "
                "expected 'follow_daily' or a strategy of your own"
            )
        return self


def check_live_broker(config: MaemaeConfig) -> None:
    """Refuse, in one line, a live config whose broker does not trade the real account: the simulator, or
    KIS's paper server. A property of the file alone, not of the machine: ``maemae run`` and ``maemae live``
    refuse it anywhere, and ``maemae paper`` and ``--replay`` refuse any ``mode = "live"``; so
    ``maemae config check`` reports it too, in these words."""
    kind, kis = config.broker.kind, config.broker.kis
    if config.mode != "live":
        return
    if kind not in ("kis", "creon"):
        raise ConfigError(
            f'mode = "live" with broker.kind = "{kind}": live trading needs broker.kind = "kis" or "creon"'
        )
    if kind == "kis" and kis.paper:
        raise ConfigError(
            'mode = "live" with broker.kis.paper = true: KIS\'s paper server is paper trading; '
            'set mode = "paper", or broker.kis.paper = false to trade the real account'
        )
