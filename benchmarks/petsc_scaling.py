"""The full model's load history on growing blades: time and peak memory per rank per Newton iteration, PARDISO
(gathered on rank 0) against PETSc (CG/GMRES + GAMG on the distributed tangent), on 1 and 2 ranks.

    python benchmarks/petsc_scaling.py [--divisions 14,3,20 22,5,36 37,9,60 48,11,78] [--ranks 1 2]
        [--solvers pardiso petsc] [--increments 1,1,1] [--skip 37,9,60:1:petsc ...] [--log runs.jsonl]

Each run is the user's job, ``mpiexec -n R adaptsim run cases/blade_hifi.yaml --set mesh.divisions=[D] --set
solver.linear_solver=S --set loading.history.increments=[I]`` (the whole history: ramp to full speed and temperature,
creep hold, unload; one increment per segment by default), one run per setup (a 1M-dof history takes most of an
hour). Its result file records the wall time, the time in linear solves, Newton and Krylov iterations, the
largest displacement and each rank's peak resident memory (``peak_memory_mb_per_rank``: everything the process
held, Python, MPI and the solver libraries included). ``--skip D:R:S`` leaves a setup out (a PARDISO factor that
does not fit this machine's memory); ``--log`` appends each finished run as a JSON line, so that a long campaign
killed half way keeps what it measured, and ``--table FILE`` prints the table of such a log without running.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
from rom_mpi import run_job

CASE = Path(__file__).resolve().parents[1] / "cases" / "blade_hifi.yaml"
FIELDS = (
    "n_dofs",
    "wall_time_s",
    "linear_solve_s",
    "newton_iterations",
    "krylov_iterations",
    "max_displacement",
    "peak_memory_mb_per_rank",
)


def measure(divisions: str, ranks: int, solver: str, increments: str, folder: Path) -> dict:
    """One run's summary fields, with its setup."""
    overrides = [
        f"mesh.divisions=[{divisions}]",
        f"loading.history.increments=[{increments}]",
        f"solver.linear_solver={solver}",
        "output.vtu=none",
    ]
    summary = run_job(ranks, overrides, folder / f"{divisions}-{ranks}-{solver}", CASE)
    # (HDF5 attributes come back as NumPy values: plain numbers and lists for the log)
    return {"divisions": divisions, "ranks": ranks, "solver": solver, **{key: np.asarray(summary[key]).tolist() for key in FIELDS}}


def print_table(rows: list[dict]) -> None:
    """The runs as one table: per Newton iteration, the wall time and each rank's peak memory."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="blade_hifi.yaml, whole load history: time and peak memory per rank")
    columns = ("dofs", "ranks", "solver", "wall (s)", "s / Newton it", "linear solves (s)", "Newton its", "Krylov its")
    for column in (*columns, "peak GB per rank", "max |u|"):
        table.add_column(column, justify="left" if column == "solver" else "right")
    for row in sorted(rows, key=lambda r: (r["n_dofs"], r["solver"], r["ranks"])):
        table.add_row(
            f"{row['n_dofs']:,}",
            str(row["ranks"]),
            row["solver"],
            f"{row['wall_time_s']:.1f}",
            f"{row['wall_time_s'] / max(row['newton_iterations'], 1):.2f}",
            f"{row['linear_solve_s']:.1f}",
            str(row["newton_iterations"]),
            str(row["krylov_iterations"]) if row["solver"] == "petsc" else "-",
            " / ".join(f"{mb / 1024:.2f}" for mb in row["peak_memory_mb_per_rank"]),
            f"{row['max_displacement']:.9e}",
        )
    Console(width=170).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--divisions", nargs="+", default=["14,3,20", "22,5,36", "37,9,60", "48,11,78"])
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--solvers", nargs="+", choices=["pardiso", "petsc"], default=["pardiso", "petsc"])
    parser.add_argument("--increments", default="1,1,1", help="increments per load segment (ramp, hold, unload)")
    parser.add_argument("--skip", nargs="*", default=[], help="setups DIVISIONS:RANKS:SOLVER left out")
    parser.add_argument("--log", type=Path, help="append each run as a JSON line")
    parser.add_argument("--table", type=Path, help="print the table of a log and stop")
    args = parser.parse_args()
    if args.table:
        print_table([json.loads(line) for line in args.table.read_text().splitlines() if line.strip()])
        return
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for divisions in args.divisions:
            for solver in args.solvers:
                for ranks in args.ranks:
                    if f"{divisions}:{ranks}:{solver}" in args.skip:
                        continue
                    row = measure(divisions, ranks, solver, args.increments, Path(folder))
                    rows.append(row)
                    if args.log:
                        with args.log.open("a") as log:
                            log.write(json.dumps(row) + "\n")
                    print(json.dumps(row), flush=True)
    print_table(rows)


if __name__ == "__main__":
    main()
