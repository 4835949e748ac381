"""Run under ``mpiexec -n P``: the PETSc solve on the elements split over the ranks: a uniaxial patch test (symmetry
planes fix single components: rows that are not whole nodes), the asymmetry of a skewed tangent from the ranks'
shares against the assembled matrix's transpose, and the first Newton system of the blade at two mesh sizes; rank 0
prints JSON."""

import json
import sys

import numpy as np
from blade_training import first_newton_solve  # this script's folder is on sys.path
from mpi4py import MPI
from test_fem import NU, E, constrain, elastic  # the serial patch test's material and constraints

from adaptsim.launch import abort_on_error
from rom.fem.loads import surface_force
from rom.fem.space import VectorSpace
from rom.geometry import box
from rom.hifi import MechanicalProblem
from rom.materials import MaterialState
from rom.parallel.layout import Layout
from rom.parallel.partition import partition_elements
from rom.parallel.solver import distributed_solver

TRACTION = 1e8


def patch_test(comm) -> dict:
    """The largest displacement error (relative) of the uniaxial patch test, and the solver's block size."""
    mesh = box((1.0, 0.2, 0.3), (5, 2, 2), 2)
    constrained = constrain(mesh, [(lambda x, k=k: np.isclose(x[:, k], 0.0), [k]) for k in range(3)])
    space = VectorSpace(mesh)
    end = mesh.faces_where(lambda x: np.isclose(x[:, 0], 1.0))
    force = surface_force(space, end, lambda x, n: np.tile([TRACTION, 0, 0], (len(x), 1)))
    problem = MechanicalProblem(space, elastic(), constrained, lambda t: force, lambda t: np.full(mesh.n_nodes, 300.0))
    layout = Layout.distributed(mesh, partition_elements(mesh, comm.Get_size()), comm)
    solver = distributed_solver(problem, layout, solver="petsc", tolerance=1e-12)
    u = layout.to_global(solver.run(np.array([1.0])).displacement)
    exact = np.zeros_like(u)
    exact[0::3], exact[1::3], exact[2::3] = (TRACTION / E * f * mesh.points[:, k] for k, f in enumerate([1.0, -NU, -NU]))
    return {
        "patch_error": float(np.abs(u - exact).max() / np.abs(exact).max()),
        "patch_block_size": solver.solve.block_size,
        **asymmetry_check(solver, comm),
    }


def asymmetry_check(solver, comm) -> dict:
    """The patch test's elastic tangent, each rank's share skewed by a few % (entries of interface dofs skewed
    differently on each rank): the solver's asymmetry against ``||A - A^T||_F / ||A||_F`` of the assembled matrix
    (its transpose built by PETSc); and how many rows the ranks share."""
    local, solve = solver.problem, solver.solve
    n = local.space.n_points
    tangent = local.material.update(np.zeros((n, 6)), np.full(n, 300.0), 1.0, MaterialState.zeros(n)).tangent
    matrix = local.assembler.assemble(local.space.element_matrices(tangent)).tocsr()
    matrix.sort_indices()
    matrix.data *= 1.0 + 0.05 * np.sin(np.arange(matrix.nnz) + comm.Get_rank())
    assembled = solve._assemble(matrix)
    difference = assembled.transpose(solve.PETSc.Mat())
    difference.axpy(-1.0, assembled)
    frobenius = solve.PETSc.NormType.FROBENIUS
    return {
        "asymmetry": solve.asymmetry(matrix, assembled),
        "asymmetry_reference": difference.norm(frobenius) / assembled.norm(frobenius),
        "shared_rows": comm.allreduce(int(solve.shared.sum())),
    }


def main() -> None:
    comm = MPI.COMM_WORLD
    report = {"ranks": comm.Get_size(), **patch_test(comm), "blade_iterations": [], "blade_residuals": []}
    for divisions in sys.argv[1:]:
        solver, residual = first_newton_solve(
            divisions, lambda mesh: Layout.distributed(mesh, partition_elements(mesh, comm.Get_size()), comm), solver="petsc"
        )
        report["blade_iterations"] += solver.solve.iterations
        report["blade_residuals"].append(residual)
    if comm.Get_rank() == 0:
        json.dump(report, sys.stdout)


if __name__ == "__main__":
    with abort_on_error(MPI.COMM_WORLD):
        main()
