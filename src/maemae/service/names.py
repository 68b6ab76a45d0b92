"""Stock names by code, for the tables an operator reads: a Korean trader knows 삼성전자 before 005930.

The names come from the market-data store's instrument list (``<data.root>/instruments.parquet``), the one
``maemae data import --instruments`` and ``data fetch`` write. ``maemae positions`` and ``orders``, the
dashboard and the end-of-day report all read them here, so they name a stock alike.

Names only label a code; nothing trades on them. So a store without the list (a live instance whose bars
live elsewhere, a data root not made yet) gives no names, and a list that cannot be read gives none either,
with one warning: a broken file must not stop an operator from seeing positions in the middle of a day.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from maemae.data.store import INSTRUMENTS_FILE, BarStore
from maemae.errors import MaemaeError

StockNames = Mapping[str, str]  # a code as text (``005930``) -> its name; a code not in it has none


def stock_names(data_root: Path, warn: Callable[[str], None]) -> dict[str, str]:
    """The name of every code in the instrument list under ``data_root``; empty when there is no list.

    Reading creates nothing: neither the data root nor the list is made when missing. A list that cannot be
    read (not Parquet, a column missing, a bad row, no permission) is told to ``warn`` in one line and gives
    no names: the caller decides where a warning goes (a command's stderr, the dashboard's log), since a
    ``--json`` stdout must stay JSON."""
    try:
        instruments = BarStore(data_root).read_instruments()
    except (MaemaeError, OSError) as error:
        warn(f"stock names left blank: {error}")
        return {}
    except KeyError as error:
        warn(f"stock names left blank: {data_root / INSTRUMENTS_FILE}: no column {error}")
        return {}
    return {str(code): instrument.name for code, instrument in instruments.items()}


def name_of(names: StockNames, code: str) -> str:
    """``code``'s name, or "" when the instrument list has none: a blank cell, never a made-up name."""
    return names.get(str(code), "")
