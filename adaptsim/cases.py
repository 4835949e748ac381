"""YAML case files: loading, command-line overrides, validation and dispatch on ``kind:``.

A case file is the single entry point of every simulation. It is validated completely,
against the pydantic model registered for its ``kind``, before any computation starts.

Packages add kinds without touching the command line: each exposes a :class:`KindSpec`
through the ``adaptsim.kinds`` entry-point group of ``pyproject.toml`` (or calls
:func:`register_kind` at run time). The spec names its runner as ``"module:function"``, so
validating a case never imports the heavy simulation code.
"""

from __future__ import annotations

import difflib
import importlib
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adaptsim.errors import CaseError, RunError, first_line

ENTRY_POINT_GROUP = "adaptsim.kinds"

#: A strictly positive, finite real number (a duration, a step, a tolerance...; models refuse NaN and infinity).
PositiveFloat = Annotated[float, Field(gt=0.0)]
#: A seed: an integer in [0, 2**32) (NumPy, PyTorch and the result file all hold it).
Seed = Annotated[int, Field(ge=0, lt=2**32)]


class StrictModel(BaseModel):
    """Base of every model inside a case: unknown keys, NaN and infinity are errors."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_default=True)


class CaseModel(StrictModel):
    """Fields every case has. A kind's model subclasses this and narrows ``kind`` to a literal."""

    kind: str
    description: str = Field("", description="One line shown by `adaptsim cases`.")
    seed: Seed = Field(0, description="Seed of every random draw of the run.")


@dataclass(frozen=True)
class KindSpec:
    """What a package registers for one ``kind:``.

    Parameters
    ----------
    name
        The value of ``kind:`` in the YAML file.
    model
        The pydantic model of the whole case.
    runner
        ``"module:function"``; the function is called as ``function(case, ctx)`` with the
        validated model and a :class:`RunContext`.
    summary
        One line describing what the kind runs.
    smoke_overrides
        ``--set`` overrides that shorten a case of this kind to a few seconds; the test suite
        runs every bundled case with them.
    mpi
        The runner distributes its work over MPI ranks when launched by ``mpiexec``; kinds without it
        refuse to run on more than one rank (every rank would repeat the run and write the same files).
    citations
        ``"module:function"``; ``function(case)`` lists the keys (:mod:`adaptsim.citations`) of the methods
        the case uses, for ``adaptsim cite``.
    """

    name: str
    model: type[CaseModel]
    runner: str
    summary: str
    smoke_overrides: tuple[str, ...] = ()
    mpi: bool = False
    citations: str = ""

    def load_runner(self) -> Callable[[CaseModel, RunContext], None]:
        """Import and return the runner function."""
        return _load(self.runner)

    def load_citations(self) -> Callable[[CaseModel], list[str]]:
        """Import and return the function listing the method keys of a case."""
        return _load(self.citations)


def _load(target: str) -> Any:
    """The object named by ``"module:attribute"``."""
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


#: Nesting depth and number of values (aliases expanded) a case file may have: far above any real case, far
#: below what exhausts the stack or the memory (a 10,000-deep file, a "billion laughs" of aliases).
MAX_YAML_DEPTH = 50
MAX_YAML_VALUES = 100_000


class CaseLoader(yaml.SafeLoader):
    """YAML loader that reads ``1e-3`` as a number (YAML 1.2, not a string as PyYAML's YAML 1.1 does) and refuses
    a key given twice in one mapping (PyYAML silently keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice (first at line {seen[key] + 1})", key_node.start_mark
                )
            if isinstance(key, str | int | float | bool):
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


CaseLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _check_size(data: Any) -> None:
    """Raise ``yaml.YAMLError`` for data nested deeper than :data:`MAX_YAML_DEPTH` or with more than
    :data:`MAX_YAML_VALUES` values (an aliased value counts every time it is used)."""
    count = 0
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        count += 1
        if count > MAX_YAML_VALUES:
            raise yaml.YAMLError(f"more than {MAX_YAML_VALUES} values (aliases expanded): not a case file")
        if depth > MAX_YAML_DEPTH:
            raise yaml.YAMLError(f"nested deeper than {MAX_YAML_DEPTH} levels")
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        stack.extend((child, depth + 1) for child in children)


def parse_yaml(text: str) -> Any:
    """Parse YAML text with :class:`CaseLoader`, refusing duplicate keys and data too deep or too large."""
    try:
        data = yaml.load(text, Loader=CaseLoader)
    except RecursionError:
        raise yaml.YAMLError(f"nested deeper than {MAX_YAML_DEPTH} levels") from None
    _check_size(data)
    return data


_registry: dict[str, KindSpec] = {}
_entry_points_loaded = False


def register_kind(spec: KindSpec) -> KindSpec:
    """Register (or replace) the spec of one kind; returns it so it can be used as a module constant."""
    _registry[spec.name] = spec
    return spec


def installed_kinds() -> dict[str, KindSpec]:
    """The kinds installed packages declare (``adaptsim.kinds`` entry points), without run-time registrations."""
    return dict(sorted((spec.name, spec) for spec in (entry_point.load() for entry_point in entry_points(group=ENTRY_POINT_GROUP))))


def available_kinds() -> dict[str, KindSpec]:
    """All registered kinds, loading the ``adaptsim.kinds`` entry points on first use."""
    global _entry_points_loaded
    if not _entry_points_loaded:
        for name, spec in installed_kinds().items():
            _registry.setdefault(name, spec)
        _entry_points_loaded = True
    return dict(sorted(_registry.items()))


@dataclass
class LoadedCase:
    """A validated case: its spec, its model, where it came from and its resolved YAML text."""

    spec: KindSpec
    case: CaseModel
    source: str

    @property
    def resolved_text(self) -> str:
        """The case with every default filled in and every override applied, as YAML."""
        return yaml.safe_dump(self.case.model_dump(mode="json"), sort_keys=False)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a case file into a mapping, turning every problem into a one-line :class:`CaseError`."""
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise CaseError("file does not exist", source=source)
    if not path.is_file():
        raise CaseError("is not a file", source=source)
    try:
        data = parse_yaml(path.read_text())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise CaseError(f"invalid YAML{where}: {exc.problem}", source=source) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CaseError(f"invalid YAML: {exc}", source=source) from None
    if not isinstance(data, dict):
        raise CaseError(f"the top level must be a mapping of keys to values, not {type(data).__name__}", source=source)
    return data


def apply_overrides(data: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Apply ``path.to.key=value`` overrides (values parsed as YAML) to a nested mapping, in place.

    Parameters
    ----------
    data
        The case mapping.
    overrides
        Strings such as ``"integrator.eta=0.01"`` or ``"masses.0=2"``.

    Returns
    -------
    dict
        ``data``, for chaining.
    """
    for override in overrides:
        key, sep, raw_value = override.partition("=")
        if not sep or not key.strip():
            raise CaseError(f"expected path.to.key=value, got {override!r}", source="--set")
        try:
            value = parse_yaml(raw_value)
        except yaml.YAMLError:
            raise CaseError(f"value {raw_value!r} is not valid YAML", source="--set", field=key.split(".")) from None
        parts = key.strip().split(".")
        node: Any = data
        for depth, part in enumerate(parts[:-1]):
            node = _child_for_override(node, part, parts[: depth + 1])
        _set_for_override(node, parts[-1], value, parts)
    return data


def _child_for_override(node: Any, part: str, path: list[str]) -> Any:
    if isinstance(node, list):
        return node[_list_index(node, part, path)]
    if not isinstance(node, dict):
        raise CaseError("is not a mapping, cannot set a key inside it", source="--set", field=path[:-1])
    return node.setdefault(part, {})


def _set_for_override(node: Any, part: str, value: Any, path: list[str]) -> None:
    if isinstance(node, list):
        node[_list_index(node, part, path)] = value
    elif isinstance(node, dict):
        node[part] = value
    else:
        raise CaseError("is not a mapping, cannot set a key inside it", source="--set", field=path[:-1])


def _list_index(node: list[Any], part: str, path: list[str]) -> int:
    if not part.lstrip("-").isdigit() or not -len(node) <= int(part) < len(node):
        raise CaseError(f"index {part!r} is not valid for a list of {len(node)} items", source="--set", field=path)
    return int(part)


def validate_case(data: Mapping[str, Any], source: str) -> LoadedCase:
    """Validate a case mapping against the model of its ``kind``.

    Raises
    ------
    CaseError
        With the field path and the problem of the first error found.
    """
    kinds = available_kinds()
    kind = data.get("kind")
    if kind is None:
        raise CaseError(f"missing; one of: {', '.join(kinds)}", source=source, field=("kind",))
    if not isinstance(kind, str) or kind not in kinds:
        hint = _did_you_mean(str(kind), kinds)
        raise CaseError(f"unknown kind {kind!r}{hint}; known kinds: {', '.join(kinds)}", source=source, field=("kind",))
    spec = kinds[kind]
    try:
        case = spec.model.model_validate(dict(data))
    except ValidationError as exc:
        raise _case_error_from_validation(exc, spec.model, source) from None
    return LoadedCase(spec=spec, case=case, source=source)


def load_case(path: str | Path, overrides: Sequence[str] = ()) -> LoadedCase:
    """Read, override and validate a case file; nothing is computed and nothing is written."""
    data = apply_overrides(read_yaml(path), overrides)
    return validate_case(data, source=str(path))


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The pydantic model found by following ``loc`` through the fields' annotations, if any."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        field_info = current.model_fields.get(part)
        if field_info is None:
            return current
        current = _first_model_in(field_info.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _first_model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = _first_model_in(argument)
        if found is not None:
            return found
    return None


def _case_error_from_validation(exc: ValidationError, model: type[CaseModel], source: str) -> CaseError:
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = [part for part in first["loc"] if not (isinstance(part, str) and part.startswith("function-"))]
    message = _describe_error(first, model, loc)
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return CaseError(message, source=source, field=loc)


def _describe_error(error: Mapping[str, Any], model: type[CaseModel], loc: list[str | int]) -> str:
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        parent = _model_at(model, loc[:-1])
        allowed = list(parent.model_fields) if parent is not None else []
        hint = _did_you_mean(str(loc[-1]), allowed)
        return f"unknown key{hint}; allowed keys: {', '.join(allowed)}" if allowed else "unknown key"
    if kind == "missing":
        return "missing (required)"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if kind == "finite_number" or (isinstance(value, float) and not math.isfinite(value)):
        return f"must be a finite number, got {value!r}"
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{error['msg'][0].lower()}{error['msg'][1:]}, got {shown}"


@dataclass
class RunContext:
    """What a runner needs besides its case: the output folder and the metadata of its result file.

    The output folder is created only when the run starts, after validation.
    """

    out_dir: Path
    loaded: LoadedCase
    artifacts: list[Path] = field(default_factory=list)

    @property
    def result_path(self) -> Path:
        """The run's HDF5 result file."""
        return self.out_dir / "result.h5"

    def write_results(self, data: Mapping[str, Any], attrs: Mapping[str, Mapping[str, Any]] | None = None) -> Path:
        """Write the run's HDF5 file atomically, with the resolved case, version and seed."""
        from adaptsim.results import write_results

        path = write_results(
            self.result_path,
            data,
            attrs=attrs,
            case_text=self.loaded.resolved_text,
            seed=self.loaded.case.seed,
            kind=self.loaded.spec.name,
        )
        self.artifacts.append(path)
        from adaptsim.progress import log

        for name, count in non_finite_values(data):
            log(f"[bold yellow]warning:[/] {path.name}: {name} holds {count} NaN or infinite value{'s' if count > 1 else ''}")
        return path

    def save_figure(self, figure: Any, name: str, **savefig_kwargs: Any) -> Path:
        """Save a matplotlib figure as ``name`` (e.g. ``"orbits.png"``) in the output folder, atomically, and close it."""
        import matplotlib.pyplot as plt

        from adaptsim.results import atomic_path

        path = self.out_dir / name
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format=path.suffix.lstrip(".") or "png", **{"dpi": 120, "bbox_inches": "tight", **savefig_kwargs})
        plt.close(figure)
        self.artifacts.append(path)
        return path


def non_finite_values(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, int]]:
    """``(dataset path, count)`` of the numeric datasets of ``data`` (nested mappings) holding NaN or infinity."""
    import numpy as np

    found = []
    for name, value in data.items():
        if isinstance(value, Mapping):
            found += non_finite_values(value, f"{prefix}{name}/")
        elif not isinstance(value, str):
            array = np.asarray(value)
            if array.dtype.kind in "fc":
                count = int(np.count_nonzero(~np.isfinite(array)))
                if count:
                    found.append((f"{prefix}{name}", count))
    return found


def run_case(loaded: LoadedCase, out_dir: str | Path) -> RunContext:
    """Run a validated case, writing its outputs into ``out_dir`` (created and probed here, see
    :mod:`adaptsim.output_folder`)."""
    from adaptsim.numerical_warnings import collected, summary
    from adaptsim.output_folder import output_folder
    from adaptsim.progress import log

    runner = loaded.spec.load_runner()
    ctx = RunContext(out_dir=Path(out_dir), loaded=loaded)
    with output_folder(ctx.out_dir), collected() as numerical:
        try:
            runner(loaded.case, ctx)
        except RunError as error:
            if not numerical:
                raise
            raise RunError(f"{error} (after numerical warnings: {summary(numerical)})") from None
        except ArithmeticError as error:  # e.g. a float overflow in Python arithmetic: the numbers left any sensible range
            raise RunError(f"numerical failure: {first_line(error)}{f' (after: {summary(numerical)})' if numerical else ''}") from None
    for text in numerical:
        log(f"[bold yellow]warning:[/] numerical: {text}")
    return ctx
