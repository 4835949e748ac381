"""The full model under mpiexec with each linear solver: PETSc on the distributed tangent against PARDISO gathered on
rank 0, on blades of two sizes.

    python benchmarks/petsc_solve.py [--divisions 8,2,10 14,3,20] [--ranks 1 2] [--increments 2,2,1] [--repeat 2]

For each mesh it runs the user's job, ``mpiexec -n R adaptsim run cases/blade_hifi.yaml --set
solver.linear_solver=S`` for S in (pardiso, petsc, and petsc with ``pc_gamg_reuse_interpolation: false``: GAMG's
interpolation rebuilt for every tangent, as every solve did before 2026-12-07) and every R, the runs interleaved (``--repeat`` rounds, the best
time of each kept: the machine is shared), and prints the wall time, the time in linear solves, Newton and Krylov
iterations and the largest displacement (equal across solvers to the Newton tolerance).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from rom_mpi import run_job

CASE = Path(__file__).resolve().parents[1] / "cases" / "blade_hifi.yaml"
#: solver -> its overrides: PARDISO, PETSc as it runs, and PETSc with GAMG's interpolation rebuilt for every tangent
SOLVERS: dict[str, list[str]] = {
    "pardiso": ["solver.linear_solver=pardiso"],
    "petsc": ["solver.linear_solver=petsc"],
    "petsc, interpolation rebuilt": ["solver.linear_solver=petsc", "solver.petsc_options={pc_gamg_reuse_interpolation: false}"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--divisions", nargs="+", default=["8,2,10", "14,3,20"])
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--increments", default="2,2,1", help="increments per load segment (ramp, hold, unload)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    from rich.console import Console
    from rich.table import Table

    setups = [(divisions, ranks, solver) for divisions in args.divisions for ranks in args.ranks for solver in SOLVERS]
    best: dict[tuple, dict] = {}
    with tempfile.TemporaryDirectory() as folder:
        for round in range(args.repeat):
            for setup in setups:
                divisions, ranks, solver = setup
                overrides = [
                    f"mesh.divisions=[{divisions}]",
                    f"loading.history.increments=[{args.increments}]",
                    *SOLVERS[solver],
                    "output.vtu=none",
                ]
                summary = run_job(ranks, overrides, Path(folder) / f"{divisions}-{solver.replace(' ', '_')}-{round}", CASE)
                if setup not in best or summary["wall_time_s"] < best[setup]["wall_time_s"]:
                    best[setup] = summary
    table = Table(title=f"blade_hifi.yaml, increments [{args.increments}], best of {args.repeat} interleaved runs")
    for column in ("dofs", "ranks", "solver", "wall (s)", "linear solves (s)", "Newton its", "Krylov its", "max |u|"):
        table.add_column(column, justify="left" if column == "solver" else "right")
    for (_, ranks, solver), row in best.items():
        table.add_row(
            f"{row['n_dofs']:,}",
            str(ranks),
            solver,
            f"{row['wall_time_s']:.2f}",
            f"{row['linear_solve_s']:.2f}",
            str(row["newton_iterations"]),
            str(row["krylov_iterations"]) if solver.startswith("petsc") else "-",
            f"{row['max_displacement']:.9e}",
        )
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
