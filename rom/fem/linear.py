"""Sparse direct solvers for the Newton systems: Intel MKL PARDISO (pypardiso) when installed, else SuperLU.

PARDISO's threads sum in an order that changes from run to run (relative differences of 1e-12 in the
displacements); MKL's conditional numerical reproducibility (``MKL_CBWR=COMPATIBLE``) makes the same input give the
same bits, and is the default here. Measured on ``cases/blade_hifi.yaml`` (2 cores): 14.8 s against 13.9-14.6 s
wall, 8 % more CPU time. ``MKL_CBWR=AUTO`` in the environment takes MKL's fastest, unreproducible paths back.

The tangent of the blade is symmetric at the first increment and to ~1e-7 after (the nonlinear kinematic hardening's
consistent tangent is not exactly symmetric). PARDISO factorises a tangent whose relative asymmetry
``||A - A^T||_F / ||A||_F`` is at most :data:`SYMMETRY_TOLERANCE` as symmetric (its upper triangle, Bunch-Kaufman
``LDL^T``: half the factor's memory, 1.7x faster on the default blade); Newton then takes steps exact to that relative
level, which its tolerance does not see. Above it, the unsymmetric factorisation, and the log says so once.
"""

from __future__ import annotations

import glob
import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla

from adaptsim.progress import log

Solve = Callable[[sp.csr_matrix, np.ndarray], np.ndarray]

#: Largest relative asymmetry ``||A - A^T||_F / ||A||_F`` factorised as symmetric.
SYMMETRY_TOLERANCE = 1e-6

#: PARDISO's matrix types: real symmetric indefinite, real unsymmetric.
SYMMETRIC, UNSYMMETRIC = -2, 11


class LinearSolveFailure(RuntimeError):
    """An iterative solve did not reach its tolerance (Newton cuts the increment, as for a failed iteration)."""


def _superlu(matrix: sp.csr_matrix, rhs: np.ndarray) -> np.ndarray:
    return sla.spsolve(matrix.tocsc(), rhs, permc_spec="COLAMD")


def _load_pardiso():
    """pypardiso, with MKL's reproducible mode unless the environment chose another (MKL reads it when it loads).

    pypardiso looks for MKL's runtime library by walking every folder under the environment (0.4 s at its import and
    at each new handle); where the environment's ``lib`` holds it (the ``mkl`` wheel's place), it is named directly.
    """
    os.environ.setdefault("MKL_CBWR", "COMPATIBLE")
    if "PYPARDISO_MKL_RT" not in os.environ:
        found = sorted(glob.glob(os.path.join(sys.prefix, "lib", "libmkl_rt.so*")))
        if found:
            os.environ["PYPARDISO_MKL_RT"] = found[0]
    import pypardiso

    return pypardiso


class SymmetricPattern:
    """For a CSR pattern: where each entry's transpose is stored (None when the pattern is not symmetric) and the
    upper triangle's pattern, computed once and reused while matrices keep the pattern."""

    def __init__(self, matrix: sp.csr_matrix) -> None:
        self.shape, self.indptr, self.indices = matrix.shape, matrix.indptr.copy(), matrix.indices.copy()
        positions = sp.csr_matrix((np.arange(1, matrix.nnz + 1, dtype=float), self.indices, self.indptr), shape=self.shape)
        transposed = positions.T.tocsr()
        transposed.sort_indices()
        same = np.array_equal(transposed.indptr, self.indptr) and np.array_equal(transposed.indices, self.indices)
        self.transpose: np.ndarray | None = transposed.data.astype(np.int64) - 1 if same else None
        rows = np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))
        self.upper = self.indices >= rows
        self.upper_indptr = np.concatenate([[0], np.cumsum(np.bincount(rows[self.upper], minlength=self.shape[0]))]).astype(
            self.indptr.dtype
        )
        self.upper_indices = self.indices[self.upper]

    def matches(self, matrix: sp.csr_matrix) -> bool:
        """Whether ``matrix`` (sorted CSR) has this pattern."""
        return matrix.shape == self.shape and np.array_equal(matrix.indptr, self.indptr) and np.array_equal(matrix.indices, self.indices)

    def asymmetry(self, matrix: sp.csr_matrix) -> float:
        """``||A - A^T||_F / ||A||_F`` (inf for a pattern that is not symmetric)."""
        if self.transpose is None:
            return float("inf")
        norm = float(np.linalg.norm(matrix.data))
        return float(np.linalg.norm(matrix.data - matrix.data[self.transpose])) / norm if norm else 0.0

    def upper_triangle(self, matrix: sp.csr_matrix) -> sp.csr_matrix:
        """The upper triangle (diagonal included) of ``matrix``."""
        return sp.csr_matrix((matrix.data[self.upper], self.upper_indices, self.upper_indptr), shape=self.shape)


class PardisoSolve:
    """PARDISO, symmetric when the matrix is (to :data:`SYMMETRY_TOLERANCE`), unsymmetric otherwise.

    Attributes
    ----------
    symmetric_solves, unsymmetric_solves
        How many solves took each factorisation.
    """

    _solvers: dict[int, Any] = {}  # one PARDISO handle per matrix type, shared by every instance (MKL's state)
    _analysed: dict[int, SymmetricPattern] = {}  # the pattern whose symbolic analysis each handle holds
    _last: int | None = None

    def __init__(self) -> None:
        self.pattern: SymmetricPattern | None = None
        self.symmetric_solves = self.unsymmetric_solves = 0

    @classmethod
    def _solver(cls, mtype: int) -> Any:
        """The PARDISO handle for ``mtype``; the other one's factorisation is released (one in memory at a time)."""
        if mtype not in cls._solvers:
            pypardiso = _load_pardiso()
            cls._solvers[mtype] = pypardiso.PyPardisoSolver(mtype=mtype)
        if cls._last is not None and cls._last != mtype:
            cls._solvers[cls._last].free_memory()
            cls._analysed.pop(cls._last, None)
        cls._last = mtype
        return cls._solvers[mtype]

    @classmethod
    def peak_memory(cls) -> int:
        """PARDISO's peak memory (bytes) for the last factorisation and solve: max(symbolic, permanent + numerical)."""
        if cls._last is None:
            return 0
        solver = cls._solvers[cls._last]
        return 1024 * max(int(solver.get_iparm(15)), int(solver.get_iparm(16)) + int(solver.get_iparm(17)))

    def __call__(self, matrix: sp.csr_matrix, rhs: np.ndarray) -> np.ndarray:
        matrix = matrix.tocsr()
        matrix.sort_indices()
        if self.pattern is None or not self.pattern.matches(matrix):
            self.pattern = SymmetricPattern(matrix)
        asymmetry = self.pattern.asymmetry(matrix)
        if asymmetry <= SYMMETRY_TOLERANCE:
            self.symmetric_solves += 1
            return self._factor_and_solve(SYMMETRIC, self.pattern.upper_triangle(matrix), rhs)
        if not self.unsymmetric_solves:
            log(
                f"linear solve: the tangent is not symmetric (relative asymmetry {asymmetry:.1e} > {SYMMETRY_TOLERANCE:g}): unsymmetric PARDISO"
            )
        self.unsymmetric_solves += 1
        return self._factor_and_solve(UNSYMMETRIC, matrix, rhs)

    def _factor_and_solve(self, mtype: int, matrix: sp.csr_matrix, rhs: np.ndarray) -> np.ndarray:
        """Factorise ``matrix`` and solve, in one PARDISO call (phase 23), after the symbolic analysis (phase 11: fill-in
        reducing ordering, symbolic factorisation) only when the handle does not hold this pattern's already.

        pypardiso's ``spsolve`` analyses every new matrix again (phase 12): on the default blade 16 ms of its 28 ms
        factorisation. Same ordering, same factors: the solutions are the same to the bit.
        """
        assert self.pattern is not None  # (set by __call__)
        solver = self._solver(mtype)
        solver._check_A(matrix)  # CSR with sorted indices and no empty row; tells PARDISO the storage
        if self._analysed.get(mtype) is not self.pattern:
            solver.set_phase(11)
            solver._call_pardiso(matrix, np.zeros((matrix.shape[0], 1)))
            self._analysed[mtype] = self.pattern
        solver.set_phase(23)
        solution = solver._call_pardiso(matrix, np.asfortranarray(np.asarray(rhs, dtype=float).reshape(matrix.shape[0], -1)))
        return solution.reshape(np.shape(rhs))


def pardiso_available() -> bool:
    """True when pypardiso (and MKL) import."""
    try:
        _load_pardiso()
    except ImportError:
        return False
    return True


def linear_solver(name: str = "auto") -> Solve:
    """The solve function for ``name``: ``pardiso`` (a new :class:`PardisoSolve`), ``superlu``, or ``auto`` (PARDISO if
    available).

    On the 36k-dof blade, PARDISO factorises a tangent about 12x faster than SuperLU (see benchmarks/hifi.py).
    """
    if name == "auto":
        name = "pardiso" if pardiso_available() else "superlu"
    if name == "pardiso" and not pardiso_available():
        raise ValueError("linear solver 'pardiso' needs the pypardiso package (pip install pypardiso)")
    return PardisoSolve() if name == "pardiso" else _superlu
