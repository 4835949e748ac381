"""adaptsim's N-body integrators against REBOUND, in one run, on the same problems and final times.

    python benchmarks/nbody_vs_rebound.py [--repeat 3]

Prints, for each problem, the wall time, steps, force evaluations and final relative energy error
of each integrator, and the ratio of adaptsim's time to REBOUND's for the pairs that reach the same
accuracy (IAS15 with the same epsilon; leapfrog with the same fixed step). Then the single-system
Hermite throughput (steps per second) and the batch-mode speed-up from 1 to all cores.
Times are the best of ``--repeat`` runs after a warm-up run (which also compiles the Numba code).
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np
import rebound
from rich.console import Console
from rich.table import Table

from nbody import initial_conditions as ic
from nbody import simulate
from nbody.diagnostics import energy

PROBLEMS = {
    "figure-eight, 10 periods": (ic.figure_eight, 10 * ic.FIGURE_EIGHT_PERIOD),
    "Pythagorean, t = 70": (ic.pythagorean, 70.0),
}


def best_time(function, repeat: int):
    """Best wall time of ``repeat`` calls (after one warm-up call) and the last result."""
    result = function()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return min(times), result


def rebound_run(system, t_end: float, integrator: str, dt: float | None = None):
    """Integrate with REBOUND (IAS15 at its default epsilon = 1e-9); returns (steps, None, relative energy error)."""
    sim = rebound.Simulation()
    sim.G = 1.0
    sim.integrator = integrator
    if dt is not None:
        sim.dt = dt
    for m, x, v in zip(system.masses, system.positions, system.velocities, strict=True):
        sim.add(m=float(m), x=x[0], y=x[1], z=x[2], vx=v[0], vy=v[1], vz=v[2])
    e0 = sim.energy()
    sim.integrate(t_end, exact_finish_time=1)
    # IAS15: one evaluation per step plus 7 per predictor-corrector iteration, which REBOUND does not
    # count; we report steps for it and leave its evaluations unknown ("-").
    return sim.steps_done, None, abs(sim.energy() - e0) / abs(e0)


def adaptsim_run(system, t_end: float, integrator: str, **parameter):
    run = simulate.integrate(system, t_end, integrator, record_times=[], **parameter)
    return run.n_steps, run.n_force_evals, float(run.energy_error[-1])


def problem_table(name: str, make, t_end: float, repeat: int) -> Table:
    system = make()
    rows = [
        ("adaptsim ias15", "eps=1e-9", lambda: adaptsim_run(system, t_end, "ias15", tol=1e-9), "ias15"),
        ("REBOUND ias15", "eps=1e-9", lambda: rebound_run(system, t_end, "ias15"), "ias15"),
        ("adaptsim leapfrog", "dt=1e-4", lambda: adaptsim_run(system, t_end, "leapfrog", dt=1e-4), "leapfrog"),
        ("REBOUND leapfrog", "dt=1e-4", lambda: rebound_run(system, t_end, "leapfrog", dt=1e-4), "leapfrog"),
        ("adaptsim hermite", "eta=0.01", lambda: adaptsim_run(system, t_end, "hermite", eta=0.01), None),
        ("adaptsim hermite (collision)", "eta=0.01", lambda: adaptsim_run(system, t_end, "hermite", eta=0.01, criterion="collision"), None),
        ("adaptsim rk (Dormand-Prince)", "tol=1e-12", lambda: adaptsim_run(system, t_end, "rk", tol=1e-12), None),
        ("adaptsim leapfrog adaptive", "eta=0.002", lambda: adaptsim_run(system, t_end, "leapfrog", eta=0.002), None),
    ]
    table = Table(title=f"{name}: E0 = {float(energy(system.masses, system.positions, system.velocities)):.6f}")
    for column in (
        "code / integrator",
        "parameter",
        "time [ms]",
        "steps",
        "force evals",
        "energy error",
        "us / step",
        "adaptsim / REBOUND",
    ):
        table.add_column(column, justify="right")
    reference: dict[str, float] = {}
    measured = []
    for label, parameter, function, pair in rows:
        seconds, (steps, evals, error) = best_time(function, repeat)
        measured.append((label, parameter, seconds, steps, evals, error, pair))
        if label.startswith("REBOUND"):
            reference[pair] = seconds
    for label, parameter, seconds, steps, evals, error, pair in measured:
        ratio = f"{seconds / reference[pair]:.2f}" if pair and label.startswith("adaptsim") else ""
        table.add_row(
            label,
            parameter,
            f"{1e3 * seconds:.1f}",
            str(steps),
            "-" if evals is None else str(evals),
            f"{error:.2e}",
            f"{1e6 * seconds / steps:.2f}",
            ratio,
        )
    return table


def hermite_throughput(repeat: int) -> tuple[float, float]:
    """Steps per second and microseconds per step of a single three-body Hermite run (~1e6 steps)."""
    system = ic.figure_eight()
    seconds, run = best_time(lambda: simulate.integrate(system, 4 * ic.FIGURE_EIGHT_PERIOD, "hermite", eta=1e-5, record_times=[]), repeat)
    return run.n_steps / seconds, 1e6 * seconds / run.n_steps


def batch_speedup(repeat: int, n_systems: int = 256) -> tuple[float, float, float, int]:
    """Systems per second of the compiled batch loop with one thread and with all threads, and the speed-up."""
    systems = [ic.random_three_body(seed, virial_ratio=0.5) for seed in range(n_systems)]
    masses = np.array([s.masses for s in systems])
    positions = np.array([s.positions for s in systems])
    velocities = np.array([s.velocities for s in systems])

    def best_batch_time() -> float:
        runs = [
            simulate.integrate_batch(masses, positions, velocities, 20.0, "hermite", eta=0.01, close_encounter=1e-4)
            for _ in range(repeat + 1)
        ]
        return min(run.wall_time for run in runs[1:])

    threads = numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(1)
    one = best_batch_time()
    numba.set_num_threads(threads)
    many = best_batch_time()
    return n_systems / one, n_systems / many, one / many, threads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement (best is kept)")
    args = parser.parse_args()
    console = Console(width=150)
    console.print(f"rebound {rebound.__version__}, numba {numba.__version__}, {numba.config.NUMBA_NUM_THREADS} threads")
    for name, (make, t_end) in PROBLEMS.items():
        console.print(problem_table(name, make, t_end, args.repeat))
    rate, per_step = hermite_throughput(args.repeat)
    one, many, speedup, threads = batch_speedup(args.repeat)
    table = Table(title="Throughput")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("Hermite, one three-body system", f"{rate:,.0f} steps/s ({per_step:.2f} us/step)")
    table.add_row("batch (256 random systems to t = 20), 1 thread", f"{one:.1f} systems/s")
    table.add_row(f"batch, {threads} threads", f"{many:.1f} systems/s (speed-up {speedup:.2f}x)")
    console.print(table)


if __name__ == "__main__":
    main()
