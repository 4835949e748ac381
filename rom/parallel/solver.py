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

    Displacements are global vectors (replicated on every rank); strains, stresses and internal variables
    live at this rank's integration points only; internal forces are summed over the ranks (``Allreduce``),
    so every rank sees the same residual and takes the same Newton path.
    """

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        if layout.subdomain is None:
            raise ValueError("a distributed space needs a distributed layout")
        self.subdomain, self.local = layout.subdomain, layout.space
        self.nodes = layout.subdomain.nodes
        self.n_dofs = layout.n_dofs
        self.dofs = layout.dofs[self.local.dofs]  # global dofs of the local elements
        self.weights, self.points, self.shape_values = self.local.weights, self.local.points, self.local.shape_values

    @property
    def n_points(self) -> int:
        """Integration points of this rank."""
        return self.local.n_points

    def strain(self, displacement: np.ndarray) -> np.ndarray:
        """Strains at this rank's points from the global displacement."""
        return self.local.strain(displacement[self.layout.dofs])

    def internal_force(self, stress: np.ndarray) -> np.ndarray:
        """The global internal-force vector (summed over the ranks)."""
        local = np.zeros(self.n_dofs)
        local[self.layout.dofs] = self.local.internal_force(stress)
        return self.layout.sum(local)

    def element_matrices(self, tangent: np.ndarray) -> np.ndarray:
        """Element tangents of this rank's elements."""
        return self.local.element_matrices(tangent)

    def at_points(self, nodal: np.ndarray) -> np.ndarray:
        """A global nodal field at this rank's points."""
        return self.local.at_points(nodal[self.nodes])


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
    comm: Any, solve: Callable[[sp.csr_matrix, np.ndarray], np.ndarray]
) -> Callable[[sp.csr_matrix, np.ndarray], np.ndarray]:
    """A linear solve of the sum of every rank's matrix: gathered and solved on rank 0, the solution broadcast.

    The documented limit of the distributed high-fidelity model: constitutive updates and assembly scale
    with the ranks, the sparse direct solve does not.
    """

    def distributed_solve(local: sp.csr_matrix, rhs: np.ndarray) -> np.ndarray:
        pieces = comm.gather(local, root=0)
        if comm.Get_rank() == 0:
            solution = np.ascontiguousarray(solve(sum(pieces[1:], pieces[0]).tocsr(), rhs), dtype=float)
            for rank in range(1, comm.Get_size()):
                comm.Send(solution, dest=rank, tag=SOLUTION_TAG)
            return solution
        # wait without spinning, so that the solver's threads on rank 0 get this core
        solution = np.empty(rhs.shape, dtype=float)
        request = comm.Irecv(solution, source=0, tag=SOLUTION_TAG)
        while not request.Test():
            time.sleep(IDLE_POLL_SECONDS)
        return solution

    return distributed_solve


def petsc_solver(problem: Any, layout: Layout, options: dict[str, Any] | None = None) -> PetscSolve:
    """A :class:`rom.fem.petsc_solve.PetscSolve` of ``problem``'s tangents over ``layout``'s ranks: each rank owns
    the rows of the dofs ``layout`` says it owns."""
    owned = layout.dofs[layout.owned]
    positions = np.repeat(layout.space.mesh.points, 3, axis=0)[layout.owned]
    order = np.argsort(owned, kind="stable")
    return PetscSolve(layout.comm, problem.free, owned[order], positions[order], options)


def distributed_solver(problem: Any, layout: Layout, petsc_options: dict[str, Any] | None = None, **options: Any) -> HifiSolver:
    """A :class:`rom.hifi.HifiSolver` of ``problem`` with this rank's elements only (see :class:`DistributedSpace`);
    the solver of ``problem`` itself for a serial layout.

    The linear solver (``options["solver"]``): ``petsc`` solves the distributed tangent with PETSc
    (:func:`petsc_solver`, ``petsc_options`` passed on); a direct solver (``auto``, ``pardiso``, ``superlu``)
    factorises the tangent gathered on rank 0 (:func:`gathered_solve`).
    """
    name = options.pop("solver", "auto")
    petsc = petsc_solver(problem, layout, petsc_options) if name == "petsc" else None
    if layout.comm is None:
        return HifiSolver(problem, solver=petsc or name, **options)
    comm = layout.comm
    space = DistributedSpace(layout)
    local_problem = MechanicalProblem(
        space, CollectiveMaterial(problem.material, comm), problem.constrained, problem.external_force, problem.temperature
    )
    return HifiSolver(local_problem, solver=petsc or gathered_solve(comm, linear_solver(name)), **options)
