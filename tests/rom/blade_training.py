"""A small blade solved by the full model: the training data of the ROM tests and the MPI check scripts."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adaptsim.cases import load_case

CASE = Path(__file__).resolve().parents[2] / "cases" / "blade_hifi.yaml"
#: PETSc's CG iterations on the first Newton system of the default blade (5,100 free dofs) at most, and their growth
#: at most on the 24,360-dof one (tests/rom/test_petsc_solve.py, and under mpiexec tests/rom/test_parallel.py).
FLAT_BOUND, FLAT_RATIO = 250, 1.2


@dataclass
class Training:
    case: object
    mesh: object
    space: object
    problem: object
    times: np.ndarray
    increments: list
    mass: object

    @property
    def displacements(self) -> np.ndarray:
        return np.array([inc.displacement for inc in self.increments]).T


def train_blade(divisions: str, *overrides: str) -> Training:
    """Run ``cases/blade_hifi.yaml`` with ``mesh.divisions=divisions`` and the overrides; keep every increment."""
    from rom.fem.space import mass_matrix
    from rom.hifi import HifiSolver
    from rom.problem import build_problem

    case = load_case(CASE, [f"mesh.divisions={divisions}", *overrides]).case
    mesh, space, problem = build_problem(case)
    times = case.loading.history.increment_times()
    increments = []
    HifiSolver(problem).run(times, lambda i, inc: increments.append(inc))
    return Training(case, mesh, space, problem, times, increments, mass_matrix(mesh))


def first_newton_solve(divisions: str, layout_of=None, **options) -> tuple[object, float]:
    """Solve the first Newton system of ``cases/blade_hifi.yaml`` with ``mesh.divisions=divisions`` (zero
    displacement, first increment) with the solver :func:`rom.parallel.solver.distributed_solver` builds with
    ``options`` on ``layout_of(mesh)`` (the serial layout by default); return the solver and the correction's
    relative residual (the ranks' shares of the tangent summed)."""
    from rom.materials import MaterialState
    from rom.parallel.layout import Layout
    from rom.parallel.solver import distributed_solver
    from rom.problem import build_problem

    case = load_case(CASE, [f"mesh.divisions={divisions}"]).case
    mesh, space, problem = build_problem(case)
    layout = Layout.serial(space) if layout_of is None else layout_of(mesh)
    solver = distributed_solver(problem, layout, **options)
    local, space = solver.problem, solver.problem.space
    t = float(case.loading.history.increment_times()[0])
    result = local.material.update(np.zeros((space.n_points, 6)), local.temperature_at_points(t), t, MaterialState.zeros(space.n_points))
    residual = (space.internal_force(result.stress) - local.external_force(t))[local.free]
    tangent = local.assembler.assemble(space.element_matrices(result.tangent))
    product = np.zeros(space.n_dofs)  # this rank's rows
    product[local.free] = tangent @ solver.solve(tangent, residual)
    product = layout.interface_sum(product)[local.free]
    difference, rhs = np.zeros(space.n_dofs), np.zeros(space.n_dofs)
    difference[local.free], rhs[local.free] = product - residual, residual
    return solver, space.norm(difference) / space.norm(rhs)
