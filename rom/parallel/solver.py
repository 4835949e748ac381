"""The full model on one rank's elements: the space and material that stand in for the whole ones in
:class:`rom.hifi.HifiSolver`, and its linear solve: PETSc on the distributed tangent, or a direct solve gathered
on rank 0 (constitutive updates and assembly scale with the ranks, the direct solve does not).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from rom.fem.linear import linear_solver
from rom.fem.petsc_solve import PetscSolve
from rom.hifi import HifiSolver, MechanicalProblem
from rom.materials import LocalConvergenceError
from rom.parallel.layout import Layout

#: Message tag of the broadcast solution, and the sleep between tests of its arrival on the other ranks.
SOLUTION_TAG = 17
IDLE_POLL_SECONDS = 5e-4


class DistributedSpace:
    """The displacement space of one rank's elements, seen by :class:`rom.hifi.HifiSolver` as the whole space.

    Displacements and nodal forces are this rank's rows (:class:`rom.parallel.layout.Layout`: the dofs of its
    elements' nodes, an interface dof on every rank that touches it with the same value); strains, stresses and
    internal variables live at this rank's integration points only. Internal forces are summed at the interface
    dofs with the neighbouring ranks only, and norms count each dof once over the ranks, so every rank sees the same
    residual norm and takes the same Newton path without a vector of the whole mesh anywhere.
    """

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        if layout.subdomain is None:
            raise ValueError("a distributed space needs a distributed layout")
        self.subdomain, self.local = layout.subdomain, layout.space
        self.nodes = layout.subdomain.nodes
        self.dofs = self.local.dofs  # the local elements' dofs, in this rank's rows
        self.weights, self.points, self.shape_values = self.local.weights, self.local.points, self.local.shape_values

    @property
    def n_dofs(self) -> int:
        """Rows of this rank."""
        return self.local.n_dofs

    @property
    def n_points(self) -> int:
        """Integration points of this rank."""
        return self.local.n_points

    def strain(self, displacement: np.ndarray) -> np.ndarray:
        """Strains at this rank's points from its rows of the displacement."""
        return self.local.strain(displacement)

    def internal_force(self, stress: np.ndarray) -> np.ndarray:
        """This rank's rows of the internal-force vector (summed with the neighbours at the interface dofs)."""
        return self.layout.interface_sum(self.local.internal_force(stress))

    def element_matrices(self, tangent: np.ndarray) -> np.ndarray:
        """Element tangents of this rank's elements."""
        return self.local.element_matrices(tangent)

    def at_points(self, nodal: np.ndarray) -> np.ndarray:
        """A nodal field at this rank's nodes (``nodes``), at its points."""
        return self.local.at_points(nodal)

    def norm(self, rows: np.ndarray) -> float:
        """The Euclidean norm of a vector given by this rank's rows (each dof once over the ranks)."""
        return self.layout.norm(rows)


class CollectiveMaterial:
    """A material whose local failures are agreed on by every rank (so that all ranks cut the increment)."""

    def __init__(self, material: Any, comm: Any) -> None:
        self.material, self.comm = material, comm

    def __getattr__(self, name: str) -> Any:
        return getattr(self.material, name)

    def update(self, *args: Any, **kwargs: Any):
        """The material's update; a :class:`LocalConvergenceError` on any rank is raised on every rank."""

        try:
            result, failure = self.material.update(*args, **kwargs), ""
        except LocalConvergenceError as error:
            result, failure = None, str(error)
        failures = [f for f in self.comm.allgather(failure) if f]
        if failures:
            raise LocalConvergenceError(failures[0])
        return result


def gathered_solve(
    layout: Layout, free: np.ndarray, solve: Callable[[sp.csr_matrix, np.ndarray], np.ndarray]
) -> Callable[[sp.csr_matrix, np.ndarray], np.ndarray]:
    """A linear solve of the sum of every rank's matrix: gathered and solved on rank 0, each rank's rows of the
    solution sent back. ``free`` selects the free dofs among ``layout``'s rows: the matrices and vectors are in
    each rank's numbering of its free rows.

    The documented limit of the distributed high-fidelity model: constitutive updates and assembly scale
    with the ranks, the sparse direct solve does not.
    """
    comm = layout.comm
    numbers, owned = layout.numbering(free)
    everyone = comm.gather(numbers, root=0)
    size = int(comm.allreduce(int(owned.sum())))

    def distributed_solve(local: sp.coo_matrix, rhs: np.ndarray) -> np.ndarray:
        local = local.tocoo()
        pieces = comm.gather((numbers[local.row], numbers[local.col], local.data, numbers[owned], rhs[owned]), root=0)
        if comm.Get_rank() == 0:
            rows, cols, data, where, values = (np.concatenate(part) for part in zip(*pieces, strict=True))
            whole_rhs = np.zeros(size)
            whole_rhs[where] = values
            matrix = sp.csr_matrix((data, (rows, cols)), shape=(size, size))  # duplicates summed
            solution = np.asarray(solve(matrix, whole_rhs), dtype=float)
            for rank in range(1, comm.Get_size()):
                comm.Send(np.ascontiguousarray(solution[everyone[rank]]), dest=rank, tag=SOLUTION_TAG)
            return solution[numbers]
        # wait without spinning, so that the solver's threads on rank 0 get this core
        solution = np.empty(numbers.size, dtype=float)
        request = comm.Irecv(solution, source=0, tag=SOLUTION_TAG)
        while not request.Test():
            time.sleep(IDLE_POLL_SECONDS)
        return solution

    return distributed_solve


def petsc_solver(free: np.ndarray, layout: Layout, options: dict[str, Any] | None = None) -> PetscSolve:
    """A :class:`rom.fem.petsc_solve.PetscSolve` of the tangents of the free dofs ``free`` (a mask over ``layout``'s
    rows) over ``layout``'s ranks: each rank owns the rows of the dofs ``layout`` says it owns."""
    if layout.comm is None:
        return PetscSolve.serial(free, np.repeat(layout.space.mesh.points, 3, axis=0), options)
    numbers, owned = layout.numbering(free)
    positions = np.repeat(layout.space.mesh.points, 3, axis=0)[free]
    return PetscSolve(
        layout.comm, numbers, owned, layout.dofs[free] % 3, positions, options, complete=lambda rows: _consistent(layout, free, rows)
    )


def _consistent(layout: Layout, free: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Free rows known where this rank owns them, completed with the owners' values elsewhere."""
    whole = np.zeros(free.size)
    whole[free] = rows
    return layout.consistent(whole)[free]


def share_of(problem: MechanicalProblem, layout: Layout) -> MechanicalProblem:
    """This rank's share of a problem of the whole mesh: its rows of the constraints and forces, the temperatures at
    its nodes, on its elements (:class:`DistributedSpace`)."""
    space = DistributedSpace(layout)
    rows, nodes = layout.dofs, space.nodes
    return MechanicalProblem(
        space,
        CollectiveMaterial(problem.material, layout.comm),
        problem.constrained[rows],
        lambda t: problem.external_force(t)[rows],
        lambda t: problem.temperature(t)[nodes],
    )


def distributed_solver(problem: Any, layout: Layout, petsc_options: dict[str, Any] | None = None, **options: Any) -> HifiSolver:
    """A :class:`rom.hifi.HifiSolver` of ``problem`` with this rank's elements and rows only (see
    :class:`DistributedSpace`; ``problem``: of the whole mesh, or already this rank's share,
    :func:`rom.problem.local_problem`); the solver of ``problem`` itself for a serial layout.

    The linear solver (``options["solver"]``): ``petsc`` solves the distributed tangent with PETSc
    (:func:`petsc_solver`, ``petsc_options`` passed on); a direct solver (``auto``, ``pardiso``, ``superlu``)
    factorises the tangent gathered on rank 0 (:func:`gathered_solve`).
    """
    name = options.pop("solver", "auto")
    if layout.comm is None:
        return HifiSolver(problem, solver=petsc_solver(problem.free, layout, petsc_options) if name == "petsc" else name, **options)
    local_problem = problem if isinstance(problem.space, DistributedSpace) else share_of(problem, layout)
    free = local_problem.free
    solve = petsc_solver(free, layout, petsc_options) if name == "petsc" else gathered_solve(layout, free, linear_solver(name))
    return HifiSolver(local_problem, solver=solve, **options)
