"""Errors of a config file's contents named after the file, for every command that runs on one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from maemae.errors import ConfigError


@contextmanager
def named_after(config: Path) -> Iterator[None]:
    """A strategy the config file names that cannot be loaded is refused after the file's name, as ``config
    check`` refuses it: the loader's message names the strategy's table, not the file it was read from."""
    from maemae.strategy.loader import StrategyLoadError

    try:
        yield
    except StrategyLoadError as error:
        raise ConfigError(f"{config}: {error}") from None
