"""The field reference in docs/configuration.md, generated from the models so it cannot go stale.

``python -m maemae.config.reference`` rewrites the part of docs/configuration.md between the markers; a test
fails when the document and the models disagree.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from maemae.config.root import MaemaeConfig

BEGIN = "<!-- BEGIN GENERATED REFERENCE -->"
END = "<!-- END GENERATED REFERENCE -->"
DOC = Path("docs/configuration.md")


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        found += _models_in(arg)
    return found


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(arg) for arg in get_args(annotation))
    if origin in (tuple, list, set, frozenset):  # a TOML array, whichever Python type holds it
        return f"list of {_type_name(get_args(annotation)[0])}"
    if origin is dict:  # a TOML table; the generic fallback below named the key type (``str``) instead
        return "table"
    if origin is not None and str(origin).endswith("Literal"):
        return " / ".join(repr(arg) for arg in get_args(annotation))
    if origin is not None and get_args(annotation):
        return _type_name(get_args(annotation)[0])
    if annotation is type(None):
        return "none"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: Any) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "required"
    value = field.default_factory() if field.default is PydanticUndefined else field.default
    if isinstance(value, BaseModel):
        return "(section)"
    return f"`{value!s}`" if value not in (None, ()) else f"`{value!r}`"


def _tag(model: type[BaseModel]) -> str:
    """The value of a tagged table's ``kind``, read from its ``Literal`` annotation: a required tag such as
    Slack's has no default to read (reading the default printed ``PydanticUndefined``)."""
    (tag,) = get_args(model.model_fields["kind"].annotation)
    return str(tag)


def _heading(path: str) -> str:
    """A table's heading as the TOML file writes it. The top-level keys (``mode``) sit above every table, so
    they get a plain heading: a ``[root]`` table would be a table TOML does not have."""
    return f"### `[{path}]`" if path else "### Top level (before any `[table]`)"


def _section(model: type[BaseModel], path: str, out: list[str], heading: str | None = None) -> None:
    rows = []
    nested: list[tuple[type[BaseModel], str, str | None]] = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        child_path = f"{path}.{key}" if path else key
        models = _models_in(field.annotation)
        if models and len(models) == 1:
            nested.append((models[0], child_path, None))
            continue
        if models:  # a list of tagged tables (alert notifiers): TOML's array of tables, one entry per kind
            nested += [
                (item, child_path, f'### `[[{child_path}]]` with `kind = "{_tag(item)}"`') for item in models
            ]
        description = (field.description or "").replace("|", "/")
        rows.append(f"| `{key}` | {_type_name(field.annotation)} | {_default(field)} | {description} |")
    if rows:
        out += ["", heading or _heading(path), ""]
        if model.__doc__ and path:
            out += [" ".join(model.__doc__.split()), ""]
        out += ["| key | type | default | meaning |", "|---|---|---|---|", *rows]
    for child, child_path, child_heading in nested:
        _section(child, child_path, out, child_heading)


def render_reference() -> str:
    """The generated reference, markers included."""
    out = [BEGIN]
    _section(MaemaeConfig, "", out)
    out.append(END)
    return "\n".join(out) + "\n"


def refresh(doc: Path = DOC) -> None:
    text = doc.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    doc.write_text(head + render_reference().rstrip("\n") + tail, encoding="utf-8")


if __name__ == "__main__":
    refresh(Path(sys.argv[1]) if len(sys.argv) > 1 else DOC)
