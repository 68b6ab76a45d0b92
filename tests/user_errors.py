"""What a user error must look like on the command line (the project's rule): one line, no traceback."""

from __future__ import annotations

import pytest


def one_error_line(err: str) -> str:
    """The only line of ``err``, which must hold no traceback."""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def refused(code: int, capsys: pytest.CaptureFixture[str]) -> str:
    """A command's exit ``code`` must be 2 (a user error) with one line on stderr; returns the line."""
    captured = capsys.readouterr()
    assert code == 2, captured
    return one_error_line(captured.err)
