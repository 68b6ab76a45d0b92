"""Folder options (``--out``, ``--dir``) read as paths, an empty value refused: as a path it is the current
folder, and a command's files would land among whatever is there."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from maemae.errors import ConfigError


def folder_option(option: str) -> Callable[[str | Path], Path]:
    """A typer parser for the folder option named ``option``."""

    def parse(value: str | Path) -> Path:
        if not str(value).strip():
            raise ConfigError(f"{option} {str(value)!r}: expected a folder path, not an empty value")
        return Path(value)

    return parse
