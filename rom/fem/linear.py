"""Sparse direct solvers for the Newton systems: Intel MKL PARDISO (pypardiso) when installed, else SuperLU.

PARDISO's threads sum in an order that changes from run to run (relative differences of 1e-12 in the
displacements); MKL's conditional numerical reproducibility (``MKL_CBWR=COMPATIBLE``) makes the same input give the
same bits, and is the default here. Measured on ``cases/blade_hifi.yaml`` (2 cores): 14.8 s against 13.9-14.6 s
wall, 8 % more CPU time. ``MKL_CBWR=AUTO`` in the environment takes MKL's fastest, unreproducible paths back.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla

Solve = Callable[[sp.csr_matrix, np.ndarray], np.ndarray]


def _superlu(matrix: sp.csr_matrix, rhs: np.ndarray) -> np.ndarray:
    return sla.spsolve(matrix.tocsc(), rhs, permc_spec="COLAMD")


def _load_pardiso():
    """pypardiso, with MKL's reproducible mode unless the environment chose another (MKL reads it when it loads)."""
    os.environ.setdefault("MKL_CBWR", "COMPATIBLE")
    import pypardiso

    return pypardiso


def _pardiso(matrix: sp.csr_matrix, rhs: np.ndarray) -> np.ndarray:
    pypardiso = _load_pardiso()

    return pypardiso.spsolve(matrix, rhs)


def pardiso_available() -> bool:
    """True when pypardiso (and MKL) import."""
    try:
        _load_pardiso()
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
