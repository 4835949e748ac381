"""The Newton systems solved by PETSc: a distributed ``MPIAIJ`` tangent, CG (symmetric) or flexible GMRES, preconditioned
by smoothed-aggregation algebraic multigrid (GAMG) with the rigid-body modes as its near-null space.

Each rank hands in its elements' share of the tangent (entries of interface dofs appear on several ranks and are
summed by PETSc) and its rows of the right-hand side, and gets its rows of the solution back: no vector of the whole
mesh on any rank. A free dof's row is owned by the lowest rank whose elements touch it (the
:class:`rom.parallel.layout.Layout`'s ``owned``), so PETSc's contiguous row blocks follow the element partition. The sparsity pattern is preallocated once
(``MatSetPreallocationCOO``) and each new tangent only sets values.

Options are PETSc's own (``ksp_rtol``, ``pc_type``, ``pc_gamg_threshold``, ...), given without the leading dash;
:data:`DEFAULT_OPTIONS` are overridden by the caller's. PETSc is imported only when this solver is used (with the
``mpich`` wheel, ``mpi4py`` first, which loads the MPI library petsc4py links to).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from typing import Any

import numba
import numpy as np
import scipy.sparse as sp

from adaptsim.linalg.tsqr import tsqr
from rom.fem.linear import SYMMETRY_TOLERANCE, LinearSolveFailure

#: What the solver does unless the caller says otherwise: GAMG with a drop threshold of 0.05 in the aggregation
#: graph and three Chebyshev/SOR smoothing steps per level, and a residual reduction that leaves Newton's quadratic
#: convergence intact (its tolerance is a relative 1e-8). A new tangent of the same pattern keeps the multigrid's
#: interpolation (aggregates and prolongators, the expensive part of GAMG's setup) and recomputes only its coarse
#: operators (``pc_gamg_reuse_interpolation``). On the blade's tangents (10-node tetrahedra, some as flat as
#: 0.006 of a regular one at the trailing edge) PETSc's defaults (no threshold, Chebyshev/Jacobi) took 800-840 CG
#: iterations at 5k and 24k dofs, these 160-170 (on a cube of regular elements both take 15-40).
DEFAULT_OPTIONS: dict[str, str | int | float] = {
    "pc_type": "gamg",
    "pc_gamg_threshold": 0.05,
    "mg_levels_pc_type": "sor",
    "mg_levels_ksp_max_it": 3,
    "ksp_rtol": 1e-10,
    "ksp_max_it": 2000,
    "pc_gamg_reuse_interpolation": "true",
}

#: Krylov methods for a symmetric tangent (to :data:`rom.fem.linear.SYMMETRY_TOLERANCE`) and for an unsymmetric one
#: (the case's ``ksp_type`` option overrides both). Flexible GMRES (right-preconditioned): left-preconditioned GMRES
#: broke down (DIVERGED_BREAKDOWN after 240 iterations) on an unsymmetric tangent of the 25k-dof blade on 2 ranks,
#: and the increment was cut; FGMRES solved it in 245 iterations (BiCGStab in 137, with two products each).
KRYLOV = {True: "cg", False: "fgmres"}

#: Options of the global database (PETSc reads them without a prefix) set while a solve on several processes sets
#: itself up: GAMG's coarse operators ``P^T A P`` by the "all at once" product, which keeps no intermediate products for
#: the next tangents (the default parallel product kept 168 MB of them on the 57k-dof blade on 2 ranks, where one
#: process kept 20: PETSc's memory 201 -> 129 MB a rank, the peak 735 -> 670 MB, the same Newton and Krylov
#: iterations). One process has no such product (``-log_view_memory``, 2026-12-08). A case's option of one of these
#: names replaces the value here, on any number of processes.
PARALLEL_GLOBAL_OPTIONS: dict[str, str] = {"matptap_via": "allatonce"}

_prefixes = itertools.count()


@numba.njit(cache=True)
def _own_asymmetry_squares(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, shared: np.ndarray) -> float:
    """``sum (A_ij - A_ji)^2`` over the entries of a CSR matrix (sorted column indices) whose row or column is not
    ``shared``; ``A_ji`` found by bisection in row ``j`` (0 where the pattern lacks it: then
    ``(j, i)``'s square is counted with ``(i, j)``'s)."""
    total = 0.0
    for i in range(indptr.size - 1):
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            if j == i or (shared[i] and shared[j]):
                continue
            start, stop = indptr[j], indptr[j + 1]
            found = start + np.searchsorted(indices[start:stop], i)
            if found < stop and indices[found] == i:
                total += (data[k] - data[found]) ** 2
            else:  # A_ji = 0, not stored: its entry of A - A^T is -A_ij, counted here too
                total += 2.0 * data[k] ** 2
    return total


def load_petsc() -> Any:
    """petsc4py's ``PETSc`` module (``mpi4py`` imported first: it loads the MPI library PETSc was built against)."""
    import mpi4py.MPI  # noqa: F401  (for its side effect)
    from petsc4py import PETSc

    return PETSc


def _mpi_land() -> Any:
    from mpi4py import MPI

    return MPI.LAND


def rigid_body_modes(components: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The six rigid-body displacements (three translations, three rotations about the origin) at dofs of the
    displacement ``components`` (0, 1, 2) whose nodes are at ``positions`` (n, 3): shape (n, 6)."""
    component = np.asarray(components)
    modes = np.zeros((len(positions), 6))
    modes[np.arange(len(positions)), component] = 1.0
    for axis in range(3):  # (e_axis x x)_component
        rotation = np.cross(np.eye(3)[axis], positions)
        modes[:, 3 + axis] = rotation[np.arange(len(positions)), component]
    return modes


class PetscSolve:
    """A PETSc Krylov solve of the tangent summed over the ranks of ``comm``.

    Each rank hands in its elements' share of the tangent and its rows of the right-hand side, both in its own
    numbering of the free dofs it holds, and gets its rows of the solution back: PETSc row ``rows[i]`` is this
    rank's free dof ``i``.

    Parameters
    ----------
    comm
        The ranks' mpi4py communicator; None for one process.
    rows
        PETSc's (global) row of each free dof this rank holds: every rank's owned rows form one contiguous block,
        rank 0's first (:meth:`rom.parallel.layout.Layout.numbering`).
    owned
        Which of those rows this rank owns (each row on exactly one rank).
    components
        The displacement component (0, 1, 2) of each of those dofs.
    positions
        Coordinates (len(rows), 3) of those dofs' nodes (for the rigid-body near-null space).
    options
        PETSc options without the leading dash, over :data:`DEFAULT_OPTIONS`.
    complete
        Makes this rank's rows of the solution, known where it owns them, whole (the values of the rows other ranks
        own; under MPI :meth:`rom.parallel.layout.Layout.consistent` on the free dofs). None for one process.

    Attributes
    ----------
    iterations
        Krylov iterations of every solve so far.
    symmetric_solves, unsymmetric_solves
        How many solves took the symmetric and the unsymmetric Krylov method (:data:`KRYLOV`).
    """

    def __init__(
        self,
        comm: Any,
        rows: np.ndarray,
        owned: np.ndarray,
        components: np.ndarray,
        positions: np.ndarray,
        options: dict[str, Any] | None = None,
        complete: Any = None,
    ) -> None:
        self.PETSc = load_petsc()
        self.comm, self.complete = comm, complete
        self.rows = np.asarray(rows, dtype=np.int64)
        owned = np.asarray(owned, dtype=bool)
        self.mine = np.flatnonzero(owned)[np.argsort(self.rows[owned], kind="stable")]  # this rank's PETSc rows, in order
        self.n_rows = int(self._allreduce_sum(self.mine.size))
        # the rows some other rank holds too (each is another rank's ghost or this rank's): their entries are summed
        ghosts = self.rows[~owned]
        self.shared = np.zeros(self.rows.size, dtype=bool) if comm is None else np.isin(self.rows, np.concatenate(comm.allgather(ghosts)))
        components = np.asarray(components)[self.mine]
        whole_nodes = self.mine.size % 3 == 0 and bool(np.all(components.reshape(-1, 3) == np.arange(3))) if self.mine.size else True
        # GAMG aggregates nodes when every rank's rows are whole nodes
        self.block_size = 3 if (whole_nodes if comm is None else comm.allreduce(whole_nodes, op=_mpi_land())) else 1
        modes = rigid_body_modes(components, np.asarray(positions)[self.mine])
        # orthonormal over the ranks, as PETSc requires of a near-null space
        self.modes = np.linalg.qr(modes)[0] if comm is None else tsqr(modes, comm)[0]
        self.prefix = f"adaptsim{next(_prefixes)}_"
        options = options or {}
        # the options of the solver's prefix, and those PETSc reads without a prefix (:data:`PARALLEL_GLOBAL_OPTIONS`)
        self.options = {**DEFAULT_OPTIONS, **{name: value for name, value in options.items() if name not in PARALLEL_GLOBAL_OPTIONS}}
        self.global_options = {
            **(PARALLEL_GLOBAL_OPTIONS if comm is not None else {}),
            **{name: value for name, value in options.items() if name in PARALLEL_GLOBAL_OPTIONS},
        }
        self.pattern: tuple[np.ndarray, np.ndarray] | None = None
        self.matrix: Any = None
        self.krylov: Any = None  # the solver and its preconditioner, kept for the next tangents of the pattern
        self._symmetric: bool | None = None  # the kind of tangent its method was set for
        self.iterations: list[int] = []
        self.symmetric_solves = self.unsymmetric_solves = 0

    @classmethod
    def serial(cls, free: np.ndarray, positions: np.ndarray, options: dict[str, Any] | None = None) -> PetscSolve:
        """The solve on one process of the free dofs ``free`` (mask over the node-major dofs at ``positions``, one
        row per dof)."""
        free = np.asarray(free, dtype=bool)
        dofs = np.flatnonzero(free)
        return cls(None, np.arange(dofs.size), np.ones(dofs.size, dtype=bool), dofs % 3, np.asarray(positions)[dofs], options)

    def _allreduce_sum(self, value: int) -> int:
        return value if self.comm is None else self.comm.allreduce(value)

    @property
    def petsc_comm(self) -> Any:
        """The communicator petsc4py takes."""
        return self.PETSc.COMM_SELF if self.comm is None else self.comm

    def _assemble(self, local: sp.csr_matrix) -> Any:
        """The distributed matrix with this rank's contribution ``local`` (CSR, sorted indices; preallocated when its
        pattern is new)."""
        if self.pattern is None or not (np.array_equal(self.pattern[0], local.indptr) and np.array_equal(self.pattern[1], local.indices)):
            self.pattern = (local.indptr.copy(), local.indices.copy())
            if self.krylov is not None:  # its preconditioner belongs to the matrix of the old pattern
                self.krylov.destroy()
                self.krylov = self._symmetric = None
            rows = self.rows[np.repeat(np.arange(local.shape[0]), np.diff(local.indptr))]
            size = (self.mine.size, self.n_rows)
            self.matrix = self.PETSc.Mat().create(comm=self.petsc_comm)
            self.matrix.setSizes((size, size), bsize=self.block_size)
            self.matrix.setType(self.PETSc.Mat.Type.AIJ)
            self.matrix.setPreallocationCOO(rows.astype(self.PETSc.IntType), self.rows[local.indices].astype(self.PETSc.IntType))
            self.matrix.setNearNullSpace(self._near_null_space())
        self.matrix.setValuesCOO(local.data, addv=self.PETSc.InsertMode.INSERT_VALUES)
        return self.matrix

    def _near_null_space(self) -> Any:
        """The rigid-body modes of the owned rows (orthonormal over the ranks)."""
        vectors = []
        for column in self.modes.T:
            vector = self.matrix.createVecLeft()
            vector.setArray(column)
            vectors.append(vector)
        return self.PETSc.NullSpace().create(vectors=vectors, comm=self.petsc_comm)

    @contextlib.contextmanager
    def _options(self) -> Iterator[None]:
        """The options in PETSc's database while a solve sets itself up (GAMG reads its levels' options at setup,
        inside ``KSPSolve``), and removed after: PETSc warns at exit about options no object used (a GAMG option
        when the case chose another preconditioner). The global options (on several processes
        :data:`PARALLEL_GLOBAL_OPTIONS`, and the case's options of those names) without the prefix."""
        settings = [(self.PETSc.Options(self.prefix), self.options), (self.PETSc.Options(), self.global_options)]
        for database, options in settings:
            for name, value in options.items():
                database.setValue(name, value)
        try:
            yield
        finally:
            for database, options in settings:
                for name in options:
                    database.delValue(name)

    def _solver(self, symmetric: bool) -> Any:
        """The Krylov solver, created with the options at its first use and kept, with its preconditioner, for the
        next tangents of the same pattern; its method set for this tangent (:data:`KRYLOV`, or the options'
        ``ksp_type``). One solver for both methods: a second one would hold a second multigrid hierarchy (as large
        as the tangent) from the first unsymmetric tangent on."""
        if self.krylov is None:
            self.krylov = self.PETSc.KSP().create(comm=self.petsc_comm)
            self.krylov.setOptionsPrefix(self.prefix)
        if self._symmetric != symmetric:
            self.krylov.setType(KRYLOV[symmetric])
            self.krylov.setFromOptions()
            self._symmetric = symmetric
        return self.krylov

    def asymmetry(self, local: sp.csr_matrix, matrix: Any) -> float:
        """``||A - A^T||_F / ||A||_F`` of the assembled matrix ``matrix`` (A) from this rank's share ``local`` (CSR,
        sorted indices), without a transpose of A (one took a tangent's memory twice over each Newton iteration). An
        entry whose row or column only this rank holds is this rank's alone (no other rank has an element with that
        dof): its share of ``A - A^T`` is the entry's. The entries between dofs several ranks hold (the interface's,
        a small part) are summed over the ranks on rank 0."""
        interior = _own_asymmetry_squares(local.indptr, local.indices, local.data, self.shared)
        at = np.flatnonzero(self.shared)
        interface = sp.csr_matrix(local[at][:, at])
        difference = (interface - interface.T).tocoo()
        rows, columns, values = self.rows[at[difference.row]], self.rows[at[difference.col]], difference.data
        if self.comm is not None:
            gathered = self.comm.gather((rows, columns, values), root=0)  # on rank 0, every rank's; elsewhere None
            rows, columns, values = (
                (np.concatenate(parts) for parts in zip(*gathered, strict=True)) if gathered else (rows[:0], columns[:0], values[:0])
            )
        _, entry = np.unique(rows * self.n_rows + columns, return_inverse=True)  # an entry held by several ranks, once
        summed = np.bincount(entry.ravel(), weights=values) if values.size else values
        squares = interior + float(np.dot(summed, summed))
        total = squares if self.comm is None else self.comm.allreduce(squares)
        norm = matrix.norm(self.PETSc.NormType.FROBENIUS)
        return float(np.sqrt(total)) / norm if norm else 0.0

    def __call__(self, local: sp.csr_matrix, rhs: np.ndarray) -> np.ndarray:
        local = local.tocsr()
        local.sort_indices()
        matrix = self._assemble(local)
        symmetric = self.asymmetry(local, matrix) <= SYMMETRY_TOLERANCE
        self.symmetric_solves += symmetric
        self.unsymmetric_solves += not symmetric
        b = matrix.createVecLeft()
        b.setArray(np.asarray(rhs, dtype=float)[self.mine])
        x = matrix.createVecRight()
        with self._options():
            ksp = self._solver(symmetric)
            ksp.setOperators(matrix)  # new values: the preconditioner is set up again at the solve
            ksp.solve(b, x)
        reason, iterations = ksp.getConvergedReason(), ksp.getIterationNumber()
        self.iterations.append(iterations)
        if reason < 0:
            names = {value: name for name, value in vars(self.PETSc.KSP.ConvergedReason).items() if isinstance(value, int)}
            raise LinearSolveFailure(
                f"PETSc {ksp.getType()} + {ksp.getPC().getType()} did not converge: {names.get(reason, reason)} after {iterations} iterations"
            )
        solution = np.zeros(self.rows.size)
        solution[self.mine] = x.getArray()
        return solution if self.complete is None else self.complete(solution)
