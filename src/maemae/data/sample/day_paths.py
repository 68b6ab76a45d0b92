"""One trading day of 1-minute bars for every sample stock at once, as (stocks × minutes) matrices.

Each stock's day is a Brownian bridge in log price from its open (yesterday's close plus an overnight gap) to
its target close, with a U-shaped volume curve. Then the KRX rules are imposed: prices clipped to the day's
limits and rounded onto the tick grid, highs and lows bracketing opens and closes. A limit-up (or -down) day
reaches the limit at some minute and stays locked there on thin volume, as such days do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import numpy.typing as npt

from maemae.domain.enums import InstrumentType, Market
from maemae.krx.limits import price_limits
from maemae.krx.ticks import round_down_array, round_up_array

Matrix = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]
Rounding = Literal["down", "up", "nearest"]


@dataclass(frozen=True, slots=True)
class TickGroup:
    """The rows (stocks) that share one tick table: it depends on the instrument type and, before the
    2023-01-25 reform, on the market, so rounding is done group by group."""

    instrument: InstrumentType
    market: Market
    rows: Mask


def tick_groups(instruments: list[InstrumentType], markets: list[Market]) -> tuple[TickGroup, ...]:
    """One group per (instrument type, market) pair present, in a fixed order so runs are reproducible."""
    pairs = list(zip(instruments, markets, strict=True))
    groups = []
    for kind in InstrumentType:
        for market in Market:
            rows = np.array([pair == (kind, market) for pair in pairs], dtype=np.bool_)
            if rows.any():
                groups.append(TickGroup(kind, market, rows))
    return tuple(groups)


@dataclass(frozen=True, slots=True)
class DayInputs:
    """What the day's generation needs per stock (arrays of length n_stocks)."""

    day: date
    base: Matrix  # yesterday's close
    upper: Matrix  # the day's limits, on the day's tick grid
    lower: Matrix
    log_return: Floats  # the day's target close relative to the base
    gap: Floats  # the overnight gap of the open relative to the base
    volatility: Floats
    volume: Floats  # the day's expected volume
    lock_up: Mask
    lock_down: Mask
    groups: tuple[TickGroup, ...]


@dataclass(frozen=True, slots=True)
class DayBars:
    """The day's minute bars, continuous minutes plus the closing auction as the last column."""

    open: Matrix
    high: Matrix
    low: Matrix
    close: Matrix
    volume: Matrix


def round_to_tick(prices: Floats, day: date, groups: tuple[TickGroup, ...], mode: Rounding) -> Matrix:
    """Prices (rows = stocks) onto the tick grid of ``day``, rounding down, up or to the nearest tick."""
    floor = np.maximum(np.floor(prices), 1).astype(np.int64)
    ceil = np.maximum(np.ceil(prices), 1).astype(np.int64)
    result = np.empty_like(floor)
    for group in groups:
        kind, market, rows = group.instrument, group.market, group.rows
        down = round_down_array(floor[rows], day, kind, market)
        if mode == "down":
            result[rows] = down
            continue
        up = round_up_array(ceil[rows], day, kind, market)
        if mode == "up":
            result[rows] = up
        else:
            exact = prices[rows]
            result[rows] = np.where(exact - down <= up - exact, down, up)
    return result


def day_limits(base: Matrix, day: date, groups: tuple[TickGroup, ...]) -> tuple[Matrix, Matrix]:
    """The day's upper and lower limits from yesterday's closes ``base``, snapped inwards onto the day's
    tick grid: across a tick-table reform a close can sit between the new ticks, and so can a limit set
    from it (KOSDAQ 300,100 on 2023-01-25 gives a lower limit of 210,100 where the tick is now 500)."""
    upper = np.empty_like(base)
    lower = np.empty_like(base)
    for group in groups:
        limits = [price_limits(int(price), day, group.instrument, group.market) for price in base[group.rows]]
        upper[group.rows] = [limit.upper for limit in limits]
        lower[group.rows] = [limit.lower for limit in limits]
    return (
        round_to_tick(upper.astype(np.float64), day, groups, "down"),
        round_to_tick(lower.astype(np.float64), day, groups, "up"),
    )


def _volume_curve(minutes: int) -> Floats:
    position = np.linspace(-1.0, 1.0, minutes)
    weights = 1.0 + 2.5 * position**2  # busy open and close, quiet lunch
    normalised: Floats = weights / weights.sum()
    return normalised


def generate_day(rng: np.random.Generator, inputs: DayInputs, minutes: int) -> DayBars:
    """``minutes`` continuous bars plus the closing-auction bar for every stock."""
    n = inputs.base.shape[0]
    base = inputs.base.astype(np.float64)
    upper = inputs.upper.astype(np.float64)
    lower = inputs.lower.astype(np.float64)
    log_open = np.log(base) + inputs.gap
    log_close = np.log(base) + inputs.log_return
    log_close = np.where(inputs.lock_up, np.log(upper), np.where(inputs.lock_down, np.log(lower), log_close))

    # Brownian bridge from the open to the target close, minute volatility scaled from the daily one.
    sigma = (inputs.volatility / np.sqrt(minutes))[:, None]
    steps = rng.standard_normal((n, minutes)) * sigma
    walk = np.cumsum(steps, axis=1)
    t = np.arange(1, minutes + 1) / minutes
    bridge = walk - t[None, :] * walk[:, -1:]
    log_path = log_open[:, None] + (log_close - log_open)[:, None] * t[None, :] + bridge

    # Locked limit days: from a random minute on, the price sits at the limit.
    lock_from = np.asarray(rng.integers(minutes // 4, minutes * 3 // 4, size=n), dtype=np.int64)
    locks_today = inputs.lock_up | inputs.lock_down
    locked = (np.arange(minutes)[None, :] >= lock_from[:, None]) & locks_today[:, None]
    limit_price = np.where(inputs.lock_up, upper, lower)[:, None]
    closes_f = np.where(locked, limit_price, np.exp(log_path))
    closes_f = np.clip(closes_f, lower[:, None], upper[:, None])

    day, groups = inputs.day, inputs.groups
    closes = round_to_tick(closes_f, day, groups, "nearest")
    first_open = round_to_tick(np.clip(np.exp(log_open), lower, upper), day, groups, "nearest")
    opens = np.concatenate([first_open[:, None], closes[:, :-1]], axis=1)
    wick = np.abs(rng.standard_normal((n, minutes))) * sigma * 0.6
    highs_f = np.maximum(opens, closes) * np.exp(np.where(locked, 0.0, wick))
    lows_f = np.minimum(opens, closes) * np.exp(-np.where(locked, 0.0, wick[:, ::-1]))
    highs = np.minimum(round_to_tick(highs_f, day, groups, "up"), inputs.upper[:, None])
    lows = np.maximum(round_to_tick(lows_f, day, groups, "down"), inputs.lower[:, None])
    highs = np.maximum(highs, np.maximum(opens, closes))
    lows = np.minimum(lows, np.minimum(opens, closes))

    noise = np.exp(rng.normal(0.0, 0.35, size=(n, minutes)))
    volumes_f = inputs.volume[:, None] * 0.95 * _volume_curve(minutes)[None, :] * noise
    volumes_f = np.where(locked, volumes_f * 0.03, volumes_f)
    volumes = np.rint(volumes_f).astype(np.int64)

    auction = closes[:, -1:]
    auction_volume = np.rint(inputs.volume * 0.05 * np.exp(rng.normal(0.0, 0.3, size=n))).astype(np.int64)
    return DayBars(
        open=np.concatenate([opens, auction], axis=1),
        high=np.concatenate([highs, auction], axis=1),
        low=np.concatenate([lows, auction], axis=1),
        close=np.concatenate([closes, auction], axis=1),
        volume=np.concatenate([volumes, auction_volume[:, None]], axis=1),
    )
