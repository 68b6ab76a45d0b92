"""Renders benchmark figures as the Markdown page docs/benchmarks.md."""

from __future__ import annotations

Figures = dict[str, str | int | float]

_INTRO = (
    "# Benchmarks\n\n"
    "Written by `make bench` (`python -m benchmarks.run`); do not edit by hand. Speed is measured\n"
    "here, never in timed tests. Figures are from one run of `make bench` on the machine below (an engine\n"
    "case: the best and the median of three warm runs and the cold first run, in a process of its own).\n"
    "This machine's speed wanders by 10 to 30 % within minutes; compare days through the bare-loop line.\n"
)


def _format(value: str | int | float) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return value


def render_markdown(machine: dict[str, str], results: list[tuple[str, Figures | str]]) -> str:
    """The whole page: the machine, then one table per benchmark (or the error that stopped it)."""
    lines = [_INTRO, "## Machine\n", "| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in machine.items()]
    for title, outcome in results:
        lines += ["", f"## {title}", ""]
        if isinstance(outcome, str):
            lines += ["Failed:", "", "```", outcome.rstrip(), "```"]
            continue
        lines += ["| figure | value |", "|---|---|"]
        lines += [f"| {name} | {_format(value)} |" for name, value in outcome.items()]
    return "\n".join(lines) + "\n"
