"""The ROM file: everything the online phase needs, in one HDF5 file tied to its mesh (and, for a campaign, the records
of the loadings the ROM has run: one atomic file, so a killed campaign resumes from a consistent state)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from adaptsim.errors import InputError
from adaptsim.results import ResultFileError, load_results, write_results
from rom.hyperreduction import Cubature, IntegrandBasis
from rom.mesh import TetMesh
from rom.online import OfflineROM
from rom.tolerances import Tolerances

ROM_KIND = "rom_file"
_ARRAYS = ("modes", "p_modes", "plastic_strain_modes", "backstress_modes", "singular_values")


def mesh_fingerprint(mesh: TetMesh) -> str:
    """A hash of the nodes and elements: a ROM only applies to the mesh it was built on."""
    digest = hashlib.sha256(np.ascontiguousarray(mesh.points).tobytes())
    digest.update(np.ascontiguousarray(mesh.cells).tobytes())
    return digest.hexdigest()[:24]


def save_rom(
    path: str | Path, offline: OfflineROM, mesh: TetMesh, case_text: str = "", campaign: dict[str, np.ndarray] | None = None
) -> Path:
    """Write ``offline`` (with its compressed integrands, when it has them) atomically to ``path``; ``campaign``: the
    per-loading records of a campaign, stored beside it."""
    data: dict[str, Any] = {name: getattr(offline, name) for name in _ARRAYS}
    data["stresses"] = np.asarray(offline.stresses)
    data["cubature"] = {"points": offline.cubature.points, "weights": offline.cubature.weights}
    attrs: dict[str, dict[str, Any]] = {
        "/": {"mesh_fingerprint": mesh_fingerprint(mesh), "n_dofs": 3 * mesh.n_nodes},
        "cubature": {"relative_error": offline.cubature.relative_error},
        "tolerances": dict(vars(offline.tolerances)),
        "scales": dict(offline.scales),
    }
    data["tolerances"], data["scales"] = {}, {}
    if offline.integrands is not None:
        data["integrands"] = {"functions": offline.integrands.functions, "integrals": offline.integrands.integrals}
        attrs["integrands"] = {"scale": offline.integrands.scale, "tolerance": offline.integrands.tolerance}
    if offline.stress_modes is not None:
        data["stress_modes"] = offline.stress_modes
    if offline.calibration is not None:
        data["calibration"], attrs["calibration"] = {}, dict(offline.calibration)
    if campaign is not None:
        data["campaign"] = campaign
    return write_results(path, data, attrs=attrs, case_text=case_text, kind=ROM_KIND)


def saved_case_text(path: str | Path) -> str | None:
    """The resolved case a ROM file was built from, or None when the file cannot be read."""
    try:
        return load_results(path, ROM_KIND, "ROM file").case_text
    except ResultFileError:
        return None


def load_rom(path: str | Path, mesh: TetMesh) -> OfflineROM:
    """Read a ROM file, checking that it is complete and was built on ``mesh``.

    Raises
    ------
    InputError
        For a missing, truncated or corrupted file, a file of another kind, or another mesh.
    """
    path = Path(path)
    try:
        saved = load_results(path, ROM_KIND, "ROM file")
    except ResultFileError as error:
        raise InputError(str(error)) from None
    try:
        arrays = {name: np.asarray(saved[name], dtype=float) for name in _ARRAYS}
        stresses = np.asarray(saved["stresses"], dtype=float)
        points = np.asarray(saved["cubature/points"], dtype=np.int64)
        weights = np.asarray(saved["cubature/weights"], dtype=float)
        tolerances = Tolerances.from_mapping(saved.attrs["tolerances"])
        scales = {k: float(v) for k, v in saved.attrs.get("scales", {}).items()}  # older files: none (the run's own sizes)
        integrands = None
        if "integrands" in saved.data:  # absent: computed from the stresses and modes at the first enrichment
            stored = saved.attrs["integrands"]
            integrands = IntegrandBasis(
                np.asarray(saved["integrands/functions"], dtype=float),
                np.asarray(saved["integrands/integrals"], dtype=float),
                float(stored["scale"]),
                float(stored["tolerance"]),
            )
        stress_modes = np.asarray(saved["stress_modes"], dtype=float) if "stress_modes" in saved.data else None  # an older file
        calibration = {k: float(v) for k, v in saved.attrs["calibration"].items()} if "calibration" in saved.attrs else None
        fingerprint = saved.attrs["/"]["mesh_fingerprint"]
        relative_error = float(saved.attrs["cubature"]["relative_error"])
    except KeyError as error:
        raise InputError(f"{str(path)!r} is a ROM file without {error} (truncated or written by another version)") from None
    except (ValueError, TypeError) as error:
        raise InputError(f"{str(path)!r} is not a readable ROM file ({type(error).__name__}: {error})") from None
    if fingerprint != mesh_fingerprint(mesh):
        raise InputError(f"{str(path)!r} was built on another mesh ({saved.attrs['/'].get('n_dofs')} dofs); rebuild it for this one")
    return OfflineROM(
        arrays["modes"],
        arrays["p_modes"],
        arrays["plastic_strain_modes"],
        arrays["backstress_modes"],
        list(stresses),
        Cubature(points, weights, relative_error),
        arrays["singular_values"],
        tolerances,
        integrands=integrands,
        scales=scales,
        stress_modes=stress_modes,
        calibration=calibration,
    )
