"""The near-collisions of the RL environment's initial conditions: energy error and cost of every integrator,
and of REBOUND's IAS15, on the seeds that have one.

    python benchmarks/near_collisions.py [--seeds 200] [--repeat 3]

Draws ``--seeds`` systems of Saz Ulibarrena & Portegies Zwart (2025), integrates each over one episode
(100 intervals of 0.1 yr) with the regularised integrator to find its closest approach, and keeps those
below 1e-3 au. On those, every integrator runs the episode interval by interval, as the environment does;
the table gives the largest and the median (over seeds) of the largest energy error at an interval's end,
the force evaluations per episode (median) and the CPU time of all the seeds (best of ``--repeat``, the
integrators interleaved).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import rebound
from rich.console import Console
from rich.table import Table

from nbody import initial_conditions as ic
from nbody.diagnostics import interval_extremes
from nbody.simulate import Simulation

INTERVAL = 0.1 * ic.YEAR
INTERVALS = 100
CONFIGURATIONS = [
    ("hermite", {"eta": 1e-2, "criterion": "collision"}),
    ("hermite", {"eta": 1e-3, "criterion": "collision"}),
    ("ias15", {"tol": 1e-9}),
    ("ias15", {"tol": 1e-11}),
    ("archain", {"tol": 1e-12}),
    ("archain", {"tol": 1e-14}),
]


def near_collision_seeds(n_seeds: int, threshold: float = 1e-3) -> list[tuple[int, float]]:
    """``(seed, closest approach)`` of the seeds whose episode has a closest approach below ``threshold``."""
    found = []
    for seed in range(n_seeds):
        closest, _ = interval_extremes(Simulation(ic.saz_ulibarrena_2025(seed), "archain"), INTERVAL, INTERVALS)
        if closest < threshold:
            found.append((seed, closest))
    return found


def episode(seed: int, integrator: str, parameter: dict) -> tuple[float, int]:
    """Largest energy error at an interval's end and force evaluations of one episode."""
    simulation = Simulation(ic.saz_ulibarrena_2025(seed), integrator, **parameter)
    worst = 0.0
    for k in range(1, INTERVALS + 1):
        simulation.advance(k * INTERVAL)
        worst = max(worst, simulation.energy_error())
    return worst, simulation.n_force_evals


def rebound_episode(seed: int) -> tuple[float, int]:
    """The same with REBOUND's IAS15 at its default epsilon 1e-9 (landing on each interval's end); steps instead
    of force evaluations."""
    system = ic.saz_ulibarrena_2025(seed)
    sim = rebound.Simulation()
    sim.G = 1.0
    sim.integrator = "ias15"
    for m, x, v in zip(system.masses, system.positions, system.velocities, strict=True):
        sim.add(m=float(m), x=x[0], y=x[1], z=x[2], vx=v[0], vy=v[1], vz=v[2])
    e0 = sim.energy()
    worst = 0.0
    for k in range(1, INTERVALS + 1):
        sim.integrate(k * INTERVAL, exact_finish_time=1)
        worst = max(worst, abs(sim.energy() - e0) / abs(e0))
    return worst, sim.steps_done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    console = Console(width=130)
    warnings.simplefilter("ignore")
    seeds = near_collision_seeds(args.seeds)
    closest = ", ".join(f"{seed}: {distance:.1e}" for seed, distance in seeds)
    console.print(f"{len(seeds)} of {args.seeds} seeds with a closest approach below 1e-3 au (seed: au) - {closest}")
    runs = [
        (f"{name} {', '.join(f'{k}={v:g}' for k, v in p.items() if k != 'criterion')}", lambda s, n=name, p=p: episode(s, n, p))
        for name, p in CONFIGURATIONS
    ]
    runs.append(("REBOUND ias15 epsilon=1e-9 (steps)", rebound_episode))
    for _, run in runs:  # compile and warm up
        run(seeds[0][0])
    cpu = {label: np.inf for label, _ in runs}
    results: dict[str, list[tuple[float, int]]] = {}
    for _ in range(args.repeat):
        for label, run in runs:  # interleaved: every configuration sees the same machine load
            started = time.process_time()
            results[label] = [run(seed) for seed, _ in seeds]
            cpu[label] = min(cpu[label], time.process_time() - started)
    table = Table(title=f"episodes of {INTERVALS} x 0.1 yr on the near-collision seeds (CPU time, best of {args.repeat})")
    for column in ("integrator", "max dE/E", "median dE/E", "force evaluations (median)", "CPU s (all seeds)"):
        table.add_column(column, justify="right" if column != "integrator" else "left")
    for label, _ in runs:
        errors = np.array([error for error, _ in results[label]])
        costs = np.array([cost for _, cost in results[label]])
        table.add_row(label, f"{errors.max():.1e}", f"{np.median(errors):.1e}", f"{np.median(costs):.0f}", f"{cpu[label]:.3f}")
    console.print(table)


if __name__ == "__main__":
    main()
