"""Strong scaling of the distributed offline building blocks on the blade, 1 and 2 ranks (and more if asked).

    python benchmarks/rom_mpi.py [--ranks 1 2] [--divisions 14,3,20] [--increments 6]

For each rank count it launches ``mpiexec -n R`` on itself (``--worker``), which times on the same mesh: the
high-fidelity increments with the elements split over the ranks (constitutive update, assembly, and the sparse
solve gathered on rank 0), the distributed POD of the snapshots, and the distributed empirical cubature.
Rank 0 of each run reports; the table shows seconds and the speed-up over one rank.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

CASE = Path(__file__).resolve().parents[1] / "cases" / "blade_hifi.yaml"


def worker(divisions: str, increments: int) -> None:
    import os

    import numpy as np
    from mpi4py import MPI

    os.environ["ADAPTSIM_QUIET"] = "1"
    from adaptsim.cases import load_case
    from rom.case import build_problem
    from rom.hyperreduction import empirical_cubature
    from rom.online import force_integrands
    from rom.parallel import Layout, abort_on_error, distributed_pod, distributed_solver, partition_elements

    comm = MPI.COMM_WORLD
    with abort_on_error(comm):
        case = load_case(CASE, [f"mesh.divisions=[{divisions}]", f"loading.history.increments=[{increments},1,1]"]).case
        mesh, _, problem = build_problem(case)
        times = case.loading.history.increment_times()[:increments]
        labels = partition_elements(mesh, comm.Get_size())
        solver = distributed_solver(problem, Layout.distributed(mesh, labels, comm))
        snapshots = []
        comm.Barrier()
        started = time.perf_counter()
        solver.run(times, lambda i, inc: snapshots.append(inc))
        hifi = time.perf_counter() - started
        space = solver.problem.space
        sub = space.subdomain
        local = np.array([inc.displacement[sub.dofs] for inc in snapshots]).T
        comm.Barrier()
        started = time.perf_counter()
        basis = distributed_pod(local, comm, sub.mass_matrix(), tolerance=1e-6)
        pod_time = time.perf_counter() - started
        integrands = force_integrands(space.local, [inc.stress for inc in snapshots], basis.modes)
        comm.Barrier()
        started = time.perf_counter()
        cubature = empirical_cubature(integrands, space.weights.ravel(), 1e-6, comm=comm, point_ids=sub.points)
        ecm_time = time.perf_counter() - started
        timing = np.empty(3)
        comm.Allreduce(np.array([solver.timing.constitutive, solver.timing.assembly, solver.timing.linear_solve]), timing, op=MPI.MAX)
        if comm.Get_rank() == 0:
            json.dump({"ranks": comm.Get_size(), "dofs": int(3 * mesh.n_nodes), "hifi": hifi, "constitutive": timing[0], "assembly": timing[1],
                       "solve": timing[2], "iterations": solver.timing.iterations, "pod": pod_time, "ecm": ecm_time,
                       "modes": basis.n_modes, "points": int(cubature.size)}, sys.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--divisions", default="14,3,20")
    parser.add_argument("--increments", type=int, default=6)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.divisions, args.increments)
        return
    from rich.console import Console
    from rich.table import Table

    mpiexec = str(Path(sys.executable).with_name("mpiexec"))
    rows = []
    for ranks in args.ranks:
        command = [mpiexec, "-n", str(ranks), sys.executable, __file__, "--worker", "--divisions", args.divisions, "--increments", str(args.increments)]
        rows.append(json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout))
    table = Table(title=f"distributed offline phase, blade {rows[0]['dofs']} dofs, {args.increments} increments ({rows[0]['iterations']} Newton iterations)")
    for column in ("ranks", "HF total (s)", "constitutive", "assembly", "solve (rank 0)", "POD (s)", "ECM (s)", "HF speed-up", "law+assembly speed-up", "POD+ECM speed-up"):
        table.add_column(column, justify="right")
    base = rows[0]
    for row in rows:
        table.add_row(
            str(row["ranks"]), f"{row['hifi']:.2f}", f"{row['constitutive']:.2f}", f"{row['assembly']:.2f}", f"{row['solve']:.2f}",
            f"{row['pod']:.3f}", f"{row['ecm']:.3f}", f"{base['hifi'] / row['hifi']:.2f}x",
            f"{(base['constitutive'] + base['assembly']) / (row['constitutive'] + row['assembly']):.2f}x",
            f"{(base['pod'] + base['ecm']) / (row['pod'] + row['ecm']):.2f}x",
        )
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
