"""Configuration: one TOML file parsed into frozen pydantic sections, one per component (DESIGN 1.8).

Components import their section from here; ``load_config`` reads a file and reports every problem at once.
"""

from maemae.config.broker import BrokerConfig, KisBrokerConfig, SimBrokerConfig
from maemae.config.execution import BacktestConfig, ExecutionConfig
from maemae.config.loader import load_config, parse_config
from maemae.config.market import CalendarConfig, CostsConfig, DataConfig, UniverseConfig
from maemae.config.operations import AlertsConfig, LoggingConfig, StoreConfig, WebConfig
from maemae.config.risk import RiskConfig
from maemae.config.root import MaemaeConfig
from maemae.config.strategies import StrategiesConfig, StrategySpec

__all__ = [
    "AlertsConfig",
    "BacktestConfig",
    "BrokerConfig",
    "CalendarConfig",
    "CostsConfig",
    "DataConfig",
    "ExecutionConfig",
    "KisBrokerConfig",
    "LoggingConfig",
    "MaemaeConfig",
    "RiskConfig",
    "SimBrokerConfig",
    "StoreConfig",
    "StrategiesConfig",
    "StrategySpec",
    "UniverseConfig",
    "WebConfig",
    "load_config",
    "parse_config",
]
