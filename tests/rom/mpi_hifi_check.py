"""Run under ``mpiexec -n P [SOLVER]``: the high-fidelity blade solved with the elements split over the ranks (linear
solver SOLVER, default ``auto``) against the serial solve with the default direct solver; rank 0 prints JSON."""

import json
import sys

import numpy as np
from blade_training import train_blade  # this script's folder is on sys.path
from mpi4py import MPI

from adaptsim.launch import abort_on_error
from rom.parallel.layout import Layout
from rom.parallel.partition import partition_elements
from rom.parallel.solver import distributed_solver


def main() -> None:
    comm = MPI.COMM_WORLD
    training = train_blade("[4,1,5]")
    mesh, space, problem, times, serial = training.mesh, training.space, training.problem, training.times, training.increments
    labels = partition_elements(mesh, comm.Get_size())
    name = sys.argv[1] if len(sys.argv) > 1 else "auto"
    layout = Layout.distributed(mesh, labels, comm)
    solver = distributed_solver(problem, layout, solver=name)
    distributed = []
    solver.run(times, lambda i, inc: distributed.append(inc))
    points = solver.problem.space.subdomain.points
    p = np.zeros((times.size, space.n_points))
    for rank_points, values in comm.allgather((points, np.array([inc.state.cumulated_plasticity for inc in distributed]))):
        p[:, rank_points] = values
    u = np.array([layout.to_global(inc.displacement) for inc in distributed])  # each rank held its rows only
    free_rows = problem.free[layout.dofs]
    numbers, owned = layout.numbering(free_rows)
    held = comm.gather((layout.dofs[free_rows], numbers, owned), root=0)
    u_serial = np.array([inc.displacement for inc in serial])
    p_serial = np.array([inc.state.cumulated_plasticity for inc in serial])
    if comm.Get_rank() == 0:
        number_of = np.full(space.n_dofs, -1)
        consistent = True
        for dofs, values, mine in held:  # every rank's copy of a dof's number equals its owner's
            number_of[dofs[mine]] = values[mine]
        for dofs, values, _ in held:
            consistent &= bool(np.array_equal(number_of[dofs], values))
        owned_numbers = np.sort(np.concatenate([values[mine] for _, values, mine in held]))
        json.dump(
            {
                "ranks": comm.Get_size(),
                "displacement_difference": float(np.abs(u - u_serial).max() / np.abs(u_serial).max()),
                "rows_held": [int(inc.displacement.size) for inc in distributed[:1]],
                "dofs": int(space.n_dofs),
                "numbering_is_a_permutation": bool(np.array_equal(owned_numbers, np.arange(int(problem.free.sum())))),
                "numbering_consistent": consistent,
                "p_difference": float(np.abs(p - p_serial).max() / np.abs(p_serial).max()),
                "newton_iterations": [[inc.newton_iterations for inc in serial], [inc.newton_iterations for inc in distributed]],
                "krylov_iterations": getattr(solver.solve, "iterations", []),
            },
            sys.stdout,
        )


if __name__ == "__main__":
    with abort_on_error(MPI.COMM_WORLD):
        main()
