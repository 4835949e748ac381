"""Cold and warm start: what a first run pays for compiling, against a second run with Numba's cache filled.

    python benchmarks/compile_times.py [--repeat 2]

Each job runs in a fresh process: first with an empty Numba cache (``NUMBA_CACHE_DIR`` a new folder: everything
is compiled), then again with the cache that run filled (everything is loaded). Jobs: the README's quick start
(``adaptsim run cases/quickstart.yaml``: Hermite, compared with IAS15), one ``integrate_batch`` call per
integrator (eight figure-eight systems, one period), and a run with collisions (``cases/head_on_merger.yaml``).
The table gives the CPU time of the child process (user + system), best of ``--repeat`` rounds, the jobs
interleaved; "compiling" is cold minus warm. Target (issue 29): the quick start's cold run at most 30 s beyond its
warm one, on an idle 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
ADAPTSIM = shutil.which("adaptsim") or str(Path(sys.executable).parent / "adaptsim")
BATCH = """
import numpy as np
from nbody import initial_conditions as ic
from nbody.batch import integrate_batch
system = ic.figure_eight()
positions = np.repeat(system.positions[None], 8, axis=0) * (1.0 + 1e-3 * np.arange(8))[:, None, None]
result = integrate_batch(system.masses, positions, np.repeat(system.velocities[None], 8, axis=0), ic.FIGURE_EIGHT_PERIOD, {name!r})
assert (result.status == 0).all(), result.status
"""


def _jobs(out: Path) -> dict[str, list[str]]:
    jobs = {
        "quick start (hermite + ias15)": [ADAPTSIM, "run", str(ROOT / "cases" / "quickstart.yaml"), "--out", str(out / "quickstart")],
        "head-on merger (3 integrators, collisions)": [
            ADAPTSIM,
            "run",
            str(ROOT / "cases" / "head_on_merger.yaml"),
            "--out",
            str(out / "merger"),
        ],
    }
    for name in ("hermite", "leapfrog", "rk", "ias15", "archain"):
        jobs[f"integrate_batch {name}"] = [sys.executable, "-c", BATCH.format(name=name)]
    return jobs


def _cpu_seconds(command: list[str], cache: Path) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of ``command`` run with Numba's cache in ``cache``."""
    environment = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "ADAPTSIM_QUIET": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, env=environment, capture_output=True, timeout=1800)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="rounds (best of)")
    args = parser.parse_args()
    best: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for round_ in range(args.repeat):
            for index, label in enumerate(_jobs(Path(scratch))):
                cache = Path(scratch) / f"cache-{round_}-{index}"  # empty: the cold run compiles everything
                for state in ("cold", "warm"):
                    command = _jobs(Path(scratch) / f"out-{round_}-{state}")[label]
                    cpu, wall = _cpu_seconds(command, cache)
                    record = best.setdefault(label, {})
                    record[state] = min(record.get(state, float("inf")), cpu)
                    record[f"{state} wall"] = min(record.get(f"{state} wall", float("inf")), wall)
    table = Table(
        "job", "cold CPU s", "warm CPU s", "compiling s", "cold wall s", "warm wall s", title="first run vs cached (best of rounds)"
    )
    for label, record in best.items():
        table.add_row(
            label,
            f"{record['cold']:.1f}",
            f"{record['warm']:.1f}",
            f"{record['cold'] - record['warm']:.1f}",
            f"{record['cold wall']:.1f}",
            f"{record['warm wall']:.1f}",
        )
    Console(width=160).print(table)
    quick = best["quick start (hermite + ias15)"]
    verdict = "met" if quick["cold wall"] - quick["warm wall"] <= 30.0 else "NOT met"
    Console().print(f"target: quick start cold wall - warm wall <= 30 s: {quick['cold wall'] - quick['warm wall']:.1f} s ({verdict})")


if __name__ == "__main__":
    main()
