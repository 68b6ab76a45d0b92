"""The generated reference names a field's TOML type: an array is a list, a free-form table a table (a
``list[str]`` field such as ``web.run_args`` used to be listed as ``str``)."""

from maemae.config.reference import render_reference


def _row(text: str, heading: str, key: str) -> list[str]:
    section = text.split(heading, 1)[1].split("\n### ", 1)[0]
    (line,) = [row for row in section.splitlines() if row.startswith(f"| `{key}` |")]
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_reference_when_a_field_is_a_list_or_a_table_then_named_so() -> None:
    text = render_reference()
    assert _row(text, "### `[web]`", "run_args")[1:3] == ["list of str", "`[]`"]
    assert _row(text, "### `[universe]`", "codes")[1] == "list of StockCode"
    assert _row(text, "### `[strategies.daily]`", "params")[1] == "table"
