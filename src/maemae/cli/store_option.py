"""``--store URL``: the state database a command uses instead of its config's ``store.url``.

Replays are what it is for: a store holds one replayed day, so replaying a week would otherwise take a copy of
the config per day. A day on the clock (``maemae run`` without ``--replay``, ``maemae live``) has no such
option: its restart must find the orders it sent, and a restart without the flag would open another store.
"""

from __future__ import annotations

from typing import Annotated

import typer

StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        metavar="URL",
        help=(
            "Use this state database instead of the config's store.url, e.g. a replay's own "
            "sqlite:///var/replay-2025-12-03.db (the same URL for status, report and the dashboard)."
        ),
    ),
]

STORE_ON_THE_CLOCK = (
    "only with --replay: a day on the clock keeps its state in the config's store.url, where its restart "
    "finds the orders it sent"
)
