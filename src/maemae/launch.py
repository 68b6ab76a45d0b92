"""The ``maemae`` console command's entry point: the CLI (:func:`maemae.cli.main`) wrapped so that Ctrl-C
at either end of the process is one line and exit 130, or nothing at all once the command is over.

Importing the CLI takes a second or two (typer, rich, pydantic, numpy through the commands' modules), and
Python raises a Ctrl-C then wherever the import is: the user got a KeyboardInterrupt traceback and a process
killed by SIGINT. This module imports nothing heavy itself, so it is loaded before any of that starts.
"""

from __future__ import annotations

import signal
import sys

INTERRUPTED = "error: maemae interrupted by Ctrl-C while starting: nothing done"


def main() -> int:
    """Run the CLI and return its exit code; 130 with one line when Ctrl-C stops it before a command is
    under way (the commands word their own). Once the CLI has returned, Ctrl-C is ignored: Python's exit
    puts SIGINT's default action back, which killed the process without a word after the command had done
    its work and printed its result."""
    try:
        from maemae.cli import main as run_cli

        code = run_cli()
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        code = 130
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return code
