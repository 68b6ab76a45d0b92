"""The sample market's cast: invented stocks with codes, names, markets, price levels and behaviours.

Behaviours are what a strategy must cope with: trending up, trending down, mean-reverting, and flat stocks;
plus one cash-like ETF (code 357870, like the CD-rate ETF the seed used as its safe asset).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from maemae.data.instruments import Instrument
from maemae.domain.codes import StockCode
from maemae.domain.enums import InstrumentType, Market

SAFE_ASSET_CODE = StockCode("357870")
SAFE_ASSET_NAME = "샘플 CD금리 ETF"

_PREFIXES = ("샘플", "가상", "모의", "연습", "시험", "예시", "본보기", "견본")
_SUFFIXES = (
    "전자", "화학", "바이오", "건설", "금융", "식품", "통신",
    "에너지", "제약", "소재", "기계", "반도체", "조선",
)  # fmt: skip


class Behaviour(StrEnum):
    TRENDING_UP = "trending_up"
    TRENDING_DOWN = "trending_down"
    MEAN_REVERTING = "mean_reverting"
    FLAT = "flat"
    CASH_LIKE = "cash_like"


@dataclass(frozen=True, slots=True)
class SampleStock:
    """One invented instrument and the parameters of its price process (daily drift and volatility)."""

    instrument: Instrument
    behaviour: Behaviour
    start_price: int
    drift: float
    volatility: float
    daily_volume: int


def _start_price(rng: np.random.Generator) -> int:
    """A price level drawn so every tick band appears: some < 2,000, most 5,000–100,000, a few > 500,000."""
    band = rng.choice(4, p=[0.12, 0.6, 0.22, 0.06])
    low, high = [(600, 1_900), (5_000, 100_000), (100_000, 480_000), (520_000, 1_500_000)][band]
    return int(np.exp(rng.uniform(np.log(low), np.log(high))))


def _sample_name(index: int) -> str:
    """The invented name of the catalogue's ``index``-th stock: a prefix and a suffix in rotation, numbered
    from the ninth on."""
    return f"{_PREFIXES[index % len(_PREFIXES)]}{_SUFFIXES[index % len(_SUFFIXES)]}{index // 8 or ''}"


_SAMPLE_NAME = re.compile(f"({'|'.join(_PREFIXES)})({'|'.join(_SUFFIXES)})([1-9][0-9]*)?")


def is_sample_name(name: str) -> bool:
    """Whether ``name`` is one the sample market gives its instruments: a store whose names all are holds
    nothing but a sample (``data sample --replace`` checks it before deleting one)."""
    return name == SAFE_ASSET_NAME or _SAMPLE_NAME.fullmatch(name) is not None


def _codes(rng: np.random.Generator, count: int) -> list[StockCode]:
    numbers: set[int] = set()
    while len(numbers) < count:
        candidate = int(rng.integers(2, 40_000)) * 10
        if candidate != int(SAFE_ASSET_CODE):
            numbers.add(candidate)
    return [StockCode(f"{number:06d}") for number in sorted(numbers)]


def build_catalogue(rng: np.random.Generator, stocks: int) -> list[SampleStock]:
    """``stocks`` invented stocks (behaviours in rotation so each kind appears) plus the safe-asset ETF."""
    behaviours = (Behaviour.TRENDING_UP, Behaviour.TRENDING_DOWN, Behaviour.MEAN_REVERTING, Behaviour.FLAT)
    catalogue = []
    for index, code in enumerate(_codes(rng, stocks)):
        behaviour = behaviours[index % len(behaviours)]
        volatility = {Behaviour.FLAT: 0.004}.get(behaviour, float(rng.uniform(0.015, 0.035)))
        drift = {Behaviour.TRENDING_UP: 0.0025, Behaviour.TRENDING_DOWN: -0.0022}.get(behaviour, 0.0)
        name = _sample_name(index)
        market = Market.KOSPI if rng.uniform() < 0.6 else Market.KOSDAQ
        start = _start_price(rng)
        catalogue.append(
            SampleStock(
                instrument=Instrument(code, name, market, InstrumentType.STOCK),
                behaviour=behaviour,
                start_price=start,
                drift=drift,
                volatility=volatility,
                daily_volume=int(np.exp(rng.uniform(np.log(1e9), np.log(1e11))) / start),
            )
        )
    catalogue.append(
        SampleStock(
            instrument=Instrument(SAFE_ASSET_CODE, SAFE_ASSET_NAME, Market.KOSPI, InstrumentType.ETF),
            behaviour=Behaviour.CASH_LIKE,
            start_price=52_000,
            drift=0.0001,
            volatility=0.0002,
            daily_volume=200_000,
        )
    )
    return catalogue
