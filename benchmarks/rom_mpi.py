"""Strong scaling of the adaptive blade ROM job under mpiexec: 1 and 2 ranks (more if asked), time per phase.

    python benchmarks/rom_mpi.py [--ranks 1 2] [--divisions 14,3,20] [--increments 5,12,5] [--parallel elements]

For each rank count it runs the user's job, ``mpiexec -n R adaptsim run cases/blade_rom_mpi.yaml`` (plain ROM,
so that the online phase is the reduced model alone), on the same mesh, and reads the phase timings its result
file records: the high-fidelity training solves, the reduction (distributed POD of the four fields, empirical
cubature, QDEIM), the offline phase as a whole, the high-fidelity reference solve and the online phase. The
table shows seconds and the speed-up of each phase over the first rank count.
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


def run_job(ranks: int, overrides: list[str], folder: Path) -> dict:
    """Run the case on ``ranks`` processes and return its result summary."""
    from adaptsim.results import load_results

    mpiexec = str(Path(sys.executable).with_name("mpiexec"))
    adaptsim = str(Path(sys.executable).with_name("adaptsim"))
    out = folder / f"ranks{ranks}"
    arguments = [a for o in overrides for a in ("--set", o)]
    command = [mpiexec, "-n", str(ranks), adaptsim, "run", str(CASE), *arguments, "--out", str(out)]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(f"mpiexec -n {ranks} failed:\n{completed.stderr}")
    return dict(load_results(out / "result.h5").attrs["summary"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--divisions", default="14,3,20")
    parser.add_argument("--increments", default="5,12,5")
    parser.add_argument("--parallel", choices=["elements", "fields"], default="elements", help="how the training fields are split")
    args = parser.parse_args()
    from rich.console import Console
    from rich.table import Table

    overrides = [f"mesh.divisions=[{args.divisions}]", f"loading.history.increments=[{args.increments}]", "variants=plain",
                 f"training.parallel={args.parallel}"]
    with tempfile.TemporaryDirectory() as folder:
        rows = [run_job(ranks, overrides, Path(folder)) for ranks in args.ranks]
    base = rows[0]
    table = Table(title=f"blade ROM job, {base['n_dofs']:,} dofs, {base['n_increments']} increments, training split by {args.parallel}")
    table.add_column("ranks", justify="right")
    for label in PHASES.values():
        table.add_column(f"{label} (s)", justify="right")
        table.add_column("speed-up", justify="right")
    for row in rows:
        cells = [str(row["n_ranks"])]
        for key in PHASES:
            cells += [f"{row[key]:.2f}", f"{base[key] / row[key]:.2f}x"]
        table.add_row(*cells)
    Console(width=220).print(table)
    errors = ", ".join(f"{row['error_displacement_plain']:.3e}" for row in rows)
    print(f"modes {base['n_modes']}, reduced points {base['n_reduced_points']} of {base['n_integration_points']}; max displacement error (plain): {errors}")


if __name__ == "__main__":
    main()
