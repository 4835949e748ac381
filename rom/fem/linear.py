"""Sparse direct solvers for the Newton systems: Intel MKL PARDISO (pypardiso) when installed, else SuperLU."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla

Solve = Callable[[sp.csr_matrix, np.ndarray], np.ndarray]


def _superlu(matrix: sp.csr_matrix, rhs: np.ndarray) -> np.ndarray:
    return sla.spsolve(matrix.tocsc(), rhs, permc_spec="COLAMD")


def _pardiso(matrix: sp.csr_matrix, rhs: np.ndarray) -> np.ndarray:
    import pypardiso

    return pypardiso.spsolve(matrix, rhs)


def pardiso_available() -> bool:
    """True when pypardiso (and MKL) import."""
    try:
        import pypardiso  # noqa: F401
    except ImportError:
        return False
    return True


def linear_solver(name: str = "auto") -> Solve:
    """The solve function for ``name``: ``pardiso``, ``superlu``, or ``auto`` (PARDISO if available).

    On the 36k-dof blade, PARDISO factorises a tangent about 12x faster than SuperLU (see benchmarks/hifi.py).
    """
    if name == "auto":
        name = "pardiso" if pardiso_available() else "superlu"
    if name == "pardiso" and not pardiso_available():
        raise ValueError("linear solver 'pardiso' needs the pypardiso package (pip install pypardiso)")
    return {"pardiso": _pardiso, "superlu": _superlu}[name]
