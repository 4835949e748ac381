"""HDF5 result files: one per run, written atomically, with the metadata to reproduce it.

Layout of a result file::

    /                 attrs: adaptsim_version, seed, kind, created
    /case             the resolved case (YAML text: defaults filled in, overrides applied)
    /<group>/...      the run's data: nested groups of datasets, with attributes per group

A file is first written under a temporary name in the same folder and renamed into place
only once complete and flushed, so an interrupted run never leaves a truncated result.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import h5py
import numpy as np

import adaptsim
from adaptsim.errors import first_line

CASE_DATASET = "case"
_RESERVED = {CASE_DATASET}
#: Version of the layout above; a reader refuses files of a newer version.
FORMAT_VERSION = 1


class ResultFileError(ValueError):
    """A file that is not a readable adaptsim result (or ROM) file: foreign, truncated, newer, or linking elsewhere."""


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it is flushed to disk and renamed to ``path``.

    On any exception (or if the process is killed) ``path`` is left untouched: either absent or its
    previous complete version. The temporary file is removed on exceptions.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.fchmod(fd, 0o666 & ~_umask())  # mkstemp creates it private; the result gets the mode any new file would
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def remove_partial_files(directory: str | Path) -> list[Path]:
    """Delete the temporary files of :func:`atomic_path` that a killed run left in ``directory`` (and below it)."""
    removed = [path for path in Path(directory).rglob(".*.partial") if path.is_file()]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def _to_attr(value: Any) -> Any:
    if isinstance(value, (str, bytes, int, float, bool, np.generic, np.ndarray)):
        return value
    if value is None:
        return "None"
    if isinstance(value, (list, tuple)):
        return np.asarray(value)
    raise TypeError(f"cannot store attribute of type {type(value).__name__}")


def _write_tree(group: h5py.Group, data: Mapping[str, Any]) -> None:
    for name, value in data.items():
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"invalid result name {name!r}")
        if isinstance(value, Mapping):
            _write_tree(group.create_group(name), value)
        elif isinstance(value, str):
            group.create_dataset(name, data=value, dtype=h5py.string_dtype())
        else:
            array = np.asarray(value)
            if array.dtype == object:
                raise TypeError(f"cannot store {name!r}: not a numeric array or a string")
            if array.dtype.kind == "U":
                group.create_dataset(name, data=array.astype(object), dtype=h5py.string_dtype())
            else:
                group.create_dataset(name, data=array)


def write_results(
    path: str | Path,
    data: Mapping[str, Any],
    *,
    attrs: Mapping[str, Mapping[str, Any]] | None = None,
    case_text: str = "",
    seed: int | None = None,
    kind: str = "",
) -> Path:
    """Write one run's results to an HDF5 file, atomically.

    Parameters
    ----------
    path
        Destination file.
    data
        Nested mapping: a mapping becomes a group, anything else a dataset (NumPy arrays,
        numbers, strings, lists of numbers).
    attrs
        Attributes per group path, e.g. ``{"summary": {"n_modes": 12}, "/": {"t_end": 6.3}}``.
    case_text
        The resolved case (YAML) that produced the results.
    seed
        The run's seed.
    kind
        The case kind.

    Returns
    -------
    Path
        ``path``.
    """
    if _RESERVED & set(data):
        raise ValueError(f"result names {sorted(_RESERVED & set(data))} are reserved")
    path = Path(path)
    try:
        _write_file(path, data, attrs, case_text, seed, kind)
    except (OSError, RuntimeError) as error:  # h5py reports a full disk as either, with its internals in the text
        found = re.search(r"error message = '([^']+)'", str(error))
        reason = found.group(1) if found else (getattr(error, "strerror", None) or first_line(error, limit=None))
        raise OSError(getattr(error, "errno", None) or errno.EIO, reason, str(path)) from None
    return path


def _write_file(
    path: Path, data: Mapping[str, Any], attrs: Mapping[str, Mapping[str, Any]] | None, case_text: str, seed: int | None, kind: str
) -> None:
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as handle:
        handle.attrs["adaptsim_version"] = adaptsim.__version__
        handle.attrs["format_version"] = FORMAT_VERSION
        handle.attrs["kind"] = kind
        handle.attrs["seed"] = -1 if seed is None else int(seed)
        handle.attrs["created"] = datetime.now(UTC).isoformat(timespec="seconds")
        handle.create_dataset(CASE_DATASET, data=case_text, dtype=h5py.string_dtype())
        _write_tree(handle, data)
        for group_path, group_attrs in (attrs or {}).items():
            group = handle.require_group(group_path) if group_path not in ("", "/") else handle
            for key, value in group_attrs.items():
                group.attrs[key] = _to_attr(value)


@dataclass
class Results:
    """The contents of a result file.

    Attributes
    ----------
    data
        Nested dict of NumPy arrays (strings for text datasets), mirroring the groups.
    attrs
        Attributes per group path (``"/"`` for the root's own run attributes).
    case_text
        The resolved case YAML.
    version, seed, kind
        Metadata of the run.
    """

    data: dict[str, Any]
    attrs: dict[str, dict[str, Any]] = field(default_factory=dict)
    case_text: str = ""
    version: str = ""
    seed: int | None = None
    kind: str = ""

    def __getitem__(self, path: str) -> Any:
        """Dataset or group at a slash-separated path, e.g. ``results["summary/indicator"]``."""
        node: Any = self.data
        for part in path.strip("/").split("/"):
            node = node[part]
        return node

    @property
    def case(self) -> dict[str, Any]:
        """The resolved case as a mapping."""
        import yaml

        return yaml.safe_load(self.case_text) or {}


def _from_attr(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return value.decode()
    return value


def _read_tree(group: h5py.Group, prefix: str, attrs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in group:
        link = group.get(name, getlink=True)
        if isinstance(link, h5py.ExternalLink | h5py.SoftLink):
            target = f"{link.filename}:{link.path}" if isinstance(link, h5py.ExternalLink) else link.path
            raise ResultFileError(f"'{prefix}{name}' is a link to {target}; adaptsim files hold their data themselves")
        if prefix == "" and name == CASE_DATASET:
            continue
        item = group[name]
        if isinstance(item, h5py.Group):
            child_path = f"{prefix}{name}"
            if item.attrs:
                attrs[child_path] = {k: _from_attr(v) for k, v in item.attrs.items()}
            out[name] = _read_tree(item, child_path + "/", attrs)
        elif h5py.check_string_dtype(item.dtype) is not None:
            value = item.asstr()[()]
            out[name] = value if isinstance(value, str) else np.asarray(value, dtype=str)
        else:
            out[name] = item[()]
    return out


def load_results(path: str | Path, kind: str | None = None, what: str = "result file") -> Results:
    """Read a result file written by :func:`write_results`.

    Parameters
    ----------
    path
        The HDF5 file.
    kind
        The kind the file must be (e.g. ``"nbody"``, ``"rom_file"``); any when None.
    what
        What the file is called in error messages (``"ROM file"``).

    Returns
    -------
    Results
        Data, attributes and run metadata.

    Raises
    ------
    ResultFileError
        One line, for a file that is missing, not HDF5, truncated, not written by adaptsim, of another kind, of a
        newer format, or holding links (external links would read other files).
    """
    path = Path(path)
    if not path.is_file():
        raise ResultFileError(f"{str(path)!r} {'is a folder' if path.is_dir() else 'does not exist'}")
    try:
        with h5py.File(path, "r") as handle:
            root_attrs = {k: _from_attr(v) for k, v in handle.attrs.items()}
            if "adaptsim_version" not in root_attrs or "kind" not in root_attrs:
                raise ResultFileError(f"{str(path)!r} is an HDF5 file not written by adaptsim")
            version = root_attrs.get("format_version", FORMAT_VERSION)
            if not isinstance(version, int) or version > FORMAT_VERSION:
                raise ResultFileError(f"{str(path)!r} is {what} format {version!r}; this adaptsim reads up to {FORMAT_VERSION}")
            if kind is not None and root_attrs["kind"] != kind:
                raise ResultFileError(f"{str(path)!r} is a {root_attrs['kind'] or 'kind-less'} file, not a {what}")
            attrs: dict[str, dict[str, Any]] = {"/": root_attrs}
            data = _read_tree(handle, "", attrs)
            case_text = handle[CASE_DATASET].asstr()[()] if CASE_DATASET in handle else ""
    except ResultFileError as error:
        if str(path) in str(error):
            raise
        raise ResultFileError(f"{str(path)!r}: {error}") from None
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as error:  # h5py's errors on foreign/truncated files
        raise ResultFileError(f"{str(path)!r} is not a readable {what} ({first_line(error)})") from None
    seed = root_attrs.get("seed", -1)
    return Results(
        data=data,
        attrs=attrs,
        case_text=case_text,
        version=str(root_attrs.get("adaptsim_version", "")),
        seed=None if seed == -1 else int(seed),
        kind=str(root_attrs.get("kind", "")),
    )
