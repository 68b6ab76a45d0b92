"""What a trading command adds to the error it stops on: a config file's strategy named after the file, and
what to do after a stop a restart goes on from."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from maemae.errors import ConfigError, MaemaeError


@contextmanager
def named_after(config: Path) -> Iterator[None]:
    """A strategy the config file names that cannot be loaded is refused after the file's name, as ``config
    check`` refuses it: the loader's message names the strategy's table, not the file it was read from."""
    from maemae.strategy.loader import StrategyLoadError

    try:
        yield
    except StrategyLoadError as error:
        raise ConfigError(f"{config}: {error}") from None


RESTARTABLE_EXIT = 7  # a lost connection or instance lock: the code a supervisor restarts on
GO_ON = "the state is saved: the same command goes on from it (--supervise restarts it by itself)"


@contextmanager
def told_how_to_go_on(venue_outlives_the_run: bool = True) -> Iterator[None]:
    """A trading run stopped by a lost connection or a lost instance lock (exit 7) says, as a stop by Ctrl-C
    says, that its state is saved and the same command goes on from it: the broker's or the exchange's
    error alone left the operator to guess whether starting again would send orders twice. Not said of a
    replay whose exchange ran inside the process: that one is gone, and its store cannot go on."""
    try:
        yield
    except MaemaeError as error:
        if venue_outlives_the_run and error.exit_code == RESTARTABLE_EXIT and GO_ON not in str(error):
            error.args = (f"{error}; {GO_ON}",)
        raise
