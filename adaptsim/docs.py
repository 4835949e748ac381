"""The generated parts of the documentation: the README's gallery, the case-file reference (``docs/cases.md``)
and the list of references (``docs/references.md``).

The case-file reference is built from the pydantic models of every registered kind (field paths, types,
defaults, descriptions), the reference list from :data:`adaptsim.citations.REFERENCES`, so neither can
drift from the code. Each lies between ``<!-- generated: NAME -->`` and ``<!-- end: NAME -->`` markers.

    python -m adaptsim.docs            # rewrite the generated sections
    python -m adaptsim.docs --check    # exit 1 if a file differs from what would be generated
"""

from __future__ import annotations

import argparse
import re
import sys
import types
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"


def _constraints(metadata: list[Any]) -> str:
    symbols = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "min_length": "length >=", "max_length": "length <="}
    parts = [f"{symbols[name]} {getattr(item, name)}" for item in metadata for name in symbols if getattr(item, name, None) is not None]
    return f" ({', '.join(parts)})" if parts else ""


def type_name(annotation: Any) -> str:
    """A short, readable name of a field's type (``'a' | 'b'``, ``list[float]``, ``Table``...)."""
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return type_name(arguments[0]) + _constraints(list(arguments[1:]))
    if origin is Literal:
        return " \\| ".join(f"`{value}`" for value in arguments)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join("null" if argument is type(None) else type_name(argument) for argument in arguments)
    if origin in (list, tuple, dict):
        inner = ", ".join("..." if argument is Ellipsis else type_name(argument) for argument in arguments)
        return f"{origin.__name__}[{inner}]"
    return getattr(annotation, "__name__", str(annotation).replace("typing.", ""))


def _default(field: Any) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if isinstance(value, BaseModel):
        return "(section)"
    return f"`{_compact(value)}`" if value is not None else "null"


def _compact(value: Any) -> str:
    """A default as a short literal: floats with 4 significant digits."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_compact(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_compact(item)}" for key, item in value.items()) + "}"
    return str(value) if not isinstance(value, str) else repr(value)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """Pydantic models named inside a field's type (in unions and lists), not the type itself."""
    found = []
    for argument in typing.get_args(annotation):
        if isinstance(argument, type) and issubclass(argument, BaseModel):
            found.append(argument)
        else:
            found.extend(_models_in(argument))
    return found


def _summary(model: type[BaseModel]) -> str:
    """The first line of a model's docstring, Sphinx roles reduced to code (``:class:`~a.B``` -> ```B```)."""
    line = (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else ""
    return re.sub(r":\w+:`~?(?:[\w.]+\.)?([\w]+)`", r"`\1`", line)


def _rows(model: type[BaseModel], prefix: str, shared: dict[str, type[BaseModel]]) -> Iterator[tuple[str, str, str, str]]:
    """``(path, type, default, description)`` of every field, sections expanded into dotted paths."""
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation = field.annotation
        description = (field.description or "").replace("|", "\\|")
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield path, "section", _default(field), description or _summary(annotation)
            yield from _rows(annotation, f"{path}.", shared)
            continue
        for inner in _models_in(annotation):
            shared[inner.__name__] = inner
        yield path, type_name(annotation) + _constraints(field.metadata), _default(field), description


def _table(rows: list[tuple[str, str, str, str]]) -> list[str]:
    lines = ["| field | type | default | description |", "|---|---|---|---|"]
    lines += [f"| `{path}` | {kind} | {default} | {description} |" for path, kind, default, description in rows]
    return lines


def case_reference() -> str:
    """Markdown: one table per registered kind, then the field types they share."""
    from adaptsim.cases import installed_kinds

    shared: dict[str, type[BaseModel]] = {}
    lines: list[str] = []
    for name, spec in installed_kinds().items():
        rows = [row for row in _rows(spec.model, "", shared) if row[0] != "kind"]
        mpi = " Runs distributed under `mpiexec -n N`." if spec.mpi else ""
        lines += [
            f"#### `kind: {name}`",
            "",
            f"{spec.summary}{mpi} Smoke test: `{' '.join(spec.smoke_overrides) or '-'}`.",
            "",
            *_table(rows),
            "",
        ]
    done: set[str] = set()
    while set(shared) - done:
        for name in sorted(set(shared) - done):
            model = shared[name]
            lines += [f"#### `{name}`", "", _summary(model), "", *_table(list(_rows(model, "", shared))), ""]
            done.add(name)
    return "\n".join(lines).rstrip() + "\n"


def references() -> str:
    """Markdown: every reference of :mod:`adaptsim.citations`, by topic."""
    from adaptsim.citations import REFERENCES

    lines: list[str] = []
    for topic, group in REFERENCES.items():
        lines += [f"**{topic}**", "", *(f"- {text}" for text in group.values()), ""]
    return "\n".join(lines).rstrip() + "\n"


def gallery() -> str:
    """Markdown: the gallery pictures (two per row) with their captions and the cases that make them."""
    from adaptsim.gallery import ENTRIES, GALLERY

    folder = GALLERY.relative_to(README.parent).as_posix()
    lines = ["| | |", "|---|---|"]
    for left, right in zip(ENTRIES[::2], [*ENTRIES[1::2], None], strict=False):
        cells = [f"![{Path(e.name).stem}]({folder}/{e.name})<br>{e.caption} (`cases/{e.case}.yaml`)" if e else "" for e in (left, right)]
        lines.append(f"| {cells[0]} | {cells[1]} |")
    return "\n".join(lines) + "\n"


SECTIONS: dict[str, Callable[[], str]] = {"gallery": gallery, "case-reference": case_reference, "references": references}
#: Which generated sections each file holds.
FILES: dict[Path, tuple[str, ...]] = {README: ("gallery",), DOCS / "cases.md": ("case-reference",), DOCS / "references.md": ("references",)}


def _replacement(content: str) -> Callable[[re.Match[str]], str]:
    """A ``re.sub`` replacement keeping the section's markers around ``content``."""
    return lambda match: match.group(1) + "\n" + content + "\n" + match.group(2)


def generate(text: str, names: tuple[str, ...] = tuple(SECTIONS)) -> str:
    """``text`` with the generated sections ``names`` replaced by their current content."""
    for name in names:
        build = SECTIONS[name]
        pattern = re.compile(rf"(<!-- generated: {name} -->\n).*?(<!-- end: {name} -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"no '<!-- generated: {name} -->' ... '<!-- end: {name} -->' section")
        text = pattern.sub(_replacement(build()), text)
    return text


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or with ``--check``, compare) the generated sections of every file of :data:`FILES`."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when a file is out of date")
    args = parser.parse_args(argv)
    stale = []
    for path, names in FILES.items():
        current = path.read_text(encoding="utf-8")
        fresh = generate(current, names)
        if fresh != current:
            stale.append(path)
            if not args.check:
                path.write_text(fresh, encoding="utf-8")
    if args.check and stale:
        print(f"{', '.join(map(str, stale))}: generated sections are out of date; run python -m adaptsim.docs", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
