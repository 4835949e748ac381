"""Strong scaling of the adaptive blade ROM job under mpiexec: 1 and 2 ranks (more if asked), time per phase.

    python benchmarks/rom_mpi.py [--ranks 1 2] [--parallel elements fields] [--divisions 14,3,20] [--increments 3,6,3] [--repeat 2]

For one rank, then each rank count and each way of splitting the training (by elements, by whole fields), it
runs the user's job, ``mpiexec -n R adaptsim run cases/blade_rom_mpi.yaml`` (plain ROM, so that the online
phase is the reduced model alone), on the same mesh, and reads the phase timings its result file records: the
high-fidelity training solves, the reduction (distributed POD of the four fields, empirical cubature, QDEIM),
the offline phase as a whole, the high-fidelity reference solve and the online phase. Each phase keeps its
best time over ``--repeat`` runs (the machine is shared); speed-ups are over the one-rank run, which already
uses every core through threaded BLAS and PARDISO.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

CASE = Path(__file__).resolve().parents[1] / "cases" / "blade_rom_mpi.yaml"
PHASES = {
    "time_training_s": "training solves",
    "time_reduction_s": "POD + ECM",
    "time_offline_s": "offline total",
    "hifi_time_s": "HF reference",
    "time_online_s": "online (plain ROM)",
}


def run_job(ranks: int, overrides: list[str], folder: Path, case: Path = CASE) -> dict:
    """Run ``case`` on ``ranks`` processes and return its result summary."""
    from adaptsim.results import load_results

    mpiexec = str(Path(sys.executable).with_name("mpiexec"))
    adaptsim = str(Path(sys.executable).with_name("adaptsim"))
    out = folder / f"ranks{ranks}"
    arguments = [a for o in overrides for a in ("--set", o)]
    command = [mpiexec, "-n", str(ranks), adaptsim, "run", str(case), *arguments, "--out", str(out)]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(f"mpiexec -n {ranks} failed:\n{completed.stderr}")
    return dict(load_results(out / "result.h5").attrs["summary"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, nargs="+", default=[2], help="rank counts besides 1")
    parser.add_argument(
        "--parallel", nargs="+", choices=["elements", "fields"], default=["elements", "fields"], help="how the training is split"
    )
    parser.add_argument("--divisions", default="14,3,20")
    parser.add_argument("--increments", default="3,6,3")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    from rich.console import Console
    from rich.table import Table

    setups = [(1, "elements")] + [(ranks, split) for ranks in args.ranks if ranks > 1 for split in args.parallel]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for ranks, split in setups:
            overrides = [
                f"mesh.divisions=[{args.divisions}]",
                f"loading.history.increments=[{args.increments}]",
                "variants=plain",
                f"training.parallel={split}",
            ]
            runs = [run_job(ranks, overrides, Path(folder)) for _ in range(args.repeat)]
            rows.append({**runs[0], **{key: min(run[key] for run in runs) for key in PHASES}, "split": split if ranks > 1 else "-"})
    base = rows[0]
    table = Table(
        title=f"blade ROM job, {base['n_dofs']:,} dofs, {base['n_increments']} increments, 2 training fields, best of {args.repeat}"
    )
    table.add_column("ranks", justify="right")
    table.add_column("training split")
    for label in PHASES.values():
        table.add_column(f"{label} (s)", justify="right")
        table.add_column("speed-up", justify="right")
    for row in rows:
        cells = [str(row["n_ranks"]), row["split"]]
        for key in PHASES:
            cells += [f"{row[key]:.2f}", f"{base[key] / row[key]:.2f}x"]
        table.add_row(*cells)
    Console(width=220).print(table)
    errors = ", ".join(f"{row['error_displacement_plain']:.3e}" for row in rows)
    print(
        f"modes {base['n_modes']}, reduced points {base['n_reduced_points']} of {base['n_integration_points']}; max displacement error (plain): {errors}"
    )


if __name__ == "__main__":
    main()
