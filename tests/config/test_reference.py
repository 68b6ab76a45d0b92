"""The generated field reference in docs/configuration.md: its headings are the tables a TOML file writes."""

from maemae.config.reference import render_reference


def test_reference_when_notifier_kind_is_required_names_the_literal_kind() -> None:
    text = render_reference()
    assert "PydanticUndefined" not in text
    for kind in ("log", "slack", "email", "telegram"):
        assert f'### `[[alerts.notifiers]]` with `kind = "{kind}"`' in text


def test_reference_when_field_is_top_level_has_no_root_table() -> None:
    text = render_reference()
    assert "[root]" not in text
    top = text.split("### Top level (before any `[table]`)", 1)[1].split("\n### ", 1)[0]
    assert "| `mode` |" in top
