"""adaptsim's N-body integrators against REBOUND, in one run, against the targets of issue 17.

    python benchmarks/nbody_vs_rebound.py [--repeat 3] [--quick] [--only TEXT]

Every row times adaptsim and REBOUND on the same work, as CPU time (``time.process_time``: the machine is
shared, wall-time ratios under load do not reproduce), best of ``--repeat`` rounds in which the rows are
interleaved (every code sees the same load), after a warm-up round that also compiles the Numba code.
The table gives both codes' numbers, their ratio, the target and whether it is met. ``--quick`` shortens
every run (for a smoke test; its ratios are not the ones to quote).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np
import rebound
from rich.console import Console
from rich.table import Table

from nbody import initial_conditions as ic
from nbody import simulate
from nbody.batch import integrate_batch
from nbody.state import System


@dataclass
class Row:
    """One measurement: adaptsim's and the reference's work, how to compare them, and the target."""

    work: str
    ours: Callable[[], float]  # runs the work, returns its size (steps, systems, calls)
    theirs: Callable[[], float] | None
    unit: str
    target: str
    met: Callable[[float, float], bool]  # (our CPU time per unit, theirs or 0) -> met
    clock: Callable[[], float] = time.process_time  # wall time only where threads are compared


def rebound_simulation(system: System, integrator: str, dt: float | None = None) -> rebound.Simulation:
    """A REBOUND simulation of ``system`` (G = 1)."""
    sim = rebound.Simulation()
    sim.G = 1.0
    sim.integrator = integrator
    if dt is not None:
        sim.dt = dt
    for m, x, v in zip(system.masses, system.positions, system.velocities, strict=True):
        sim.add(m=float(m), x=x[0], y=x[1], z=x[2], vx=v[0], vy=v[1], vz=v[2])
    return sim


def cluster(n_bodies: int, seed: int) -> System:
    """``n_bodies`` equal masses uniform in the unit ball, Gaussian velocities scaled to virial ratio 0.5."""
    rng = np.random.default_rng(seed)
    directions = rng.standard_normal((n_bodies, 3))
    x = directions / np.linalg.norm(directions, axis=1, keepdims=True) * rng.uniform(0, 1, (n_bodies, 1)) ** (1 / 3)
    v = rng.standard_normal((n_bodies, 3))
    m = np.full(n_bodies, 1.0 / n_bodies)
    x -= m @ x / m.sum()
    v -= m @ v / m.sum()
    from nbody.forces import kinetic_energy, potential_energy

    scale = np.sqrt(0.5 * abs(potential_energy(m, x, 0.0)) / (2.0 * kinetic_energy(m, v)))
    return System(m, x, v * scale)


def ours_integrate(system: System, t_end: float, integrator: str, **parameter) -> Callable[[], float]:
    def run() -> float:
        return float(simulate.integrate(system, t_end, integrator, record_times=[], **parameter).n_steps)

    return run


def theirs_integrate(system: System, t_end: float, integrator: str, dt: float | None = None) -> Callable[[], float]:
    def run() -> float:
        sim = rebound_simulation(system, integrator, dt)
        sim.integrate(t_end, exact_finish_time=1)
        return float(sim.steps_done)

    return run


def zero_length_calls(calls: int) -> tuple[Callable[[], float], Callable[[], float]]:
    """``calls`` calls of zero length on a figure-eight (the cost of one call into each code)."""
    ours_simulation = simulate.Simulation(ic.figure_eight(), "ias15")
    theirs_simulation = rebound_simulation(ic.figure_eight(), "ias15")

    def ours() -> float:
        for _ in range(calls):
            ours_simulation.advance(ours_simulation.t)
        return float(calls)

    def theirs() -> float:
        for _ in range(calls):
            theirs_simulation.integrate(theirs_simulation.t)
        return float(calls)

    return ours, theirs


def batch_rows(n_systems: int, t_end: float) -> list[Row]:
    """Batch against one-by-one on one thread, and the batch on all threads against one, for every integrator."""
    systems = [ic.random_three_body(seed, virial_ratio=0.5) for seed in range(n_systems)]
    masses = np.array([s.masses for s in systems])
    positions = np.array([s.positions for s in systems])
    velocities = np.array([s.velocities for s in systems])
    threads = numba.config.NUMBA_NUM_THREADS
    rows = []
    for name, parameter in (
        ("hermite", {"eta": 0.01}),
        ("leapfrog", {"eta": 0.002}),
        ("rk", {"tol": 1e-10}),
        ("ias15", {}),
        ("archain", {}),
    ):

        def batch(threads_used: int, name=name, parameter=parameter) -> float:
            numba.set_num_threads(threads_used)
            try:
                integrate_batch(masses, positions, velocities, t_end, name, close_encounter=1e-4, **parameter)
            finally:
                numba.set_num_threads(threads)
            return float(n_systems)

        def one_by_one(name=name, parameter=parameter) -> float:
            for system in systems:
                simulate.integrate(system, t_end, name, close_encounter=1e-4, record_times=[], **parameter)
            return float(n_systems)

        rows.append(
            Row(
                f"batch {name}, 1 thread / one by one",
                lambda b=batch: b(1),
                one_by_one,
                "system",
                ">= 1.5x the rate",
                lambda o, t: t / o >= 1.5,
            )
        )
        if threads > 1:
            rows.append(
                Row(
                    f"batch {name}, {threads} threads / 1 thread",
                    lambda b=batch: b(threads),
                    lambda b=batch: b(1),
                    "system",
                    f">= {0.8 * threads:.1f}x (scales; wall time)",
                    lambda o, t, threads=threads: t / o >= 0.8 * threads,
                    time.perf_counter,
                )
            )
    return rows


def rows(quick: bool) -> list[Row]:
    """The rows of issue 17's target table."""
    scale = 0.05 if quick else 1.0
    eight, pythagorean = ic.figure_eight(), ic.pythagorean()
    randoms = [ic.random_three_body(seed, virial_ratio=0.5) for seed in range(10)]
    period = ic.FIGURE_EIGHT_PERIOD

    def ours_randoms() -> float:
        return sum(ours_integrate(system, 10.0 * scale, "ias15")() for system in randoms)

    def theirs_randoms() -> float:
        return sum(theirs_integrate(system, 10.0 * scale, "ias15")() for system in randoms)

    faster = lambda ratio: lambda ours, theirs: ours <= ratio * theirs  # noqa: E731 - per unit of work
    table = [
        Row("IAS15, figure-eight, 100 periods", ours_integrate(eight, 100 * period * scale, "ias15"), theirs_integrate(eight, 100 * period * scale, "ias15"), "step", "<= 0.8x per step", faster(0.8)),
        Row("IAS15, Pythagorean to t = 70", ours_integrate(pythagorean, 70.0 * scale, "ias15"), theirs_integrate(pythagorean, 70.0 * scale, "ias15"), "step", "<= 0.8x per step", faster(0.8)),
        Row("IAS15, 10 random systems to t = 10", ours_randoms, theirs_randoms, "step", "<= 0.8x per step", faster(0.8)),
        Row("leapfrog dt = 1e-4, figure-eight, 10 periods", ours_integrate(eight, 10 * period * scale, "leapfrog", dt=1e-4), theirs_integrate(eight, 10 * period * scale, "leapfrog", dt=1e-4), "step", "<= 0.5x per step", faster(0.5)),
        Row("Hermite eta = 1e-5, figure-eight, 4 periods", ours_integrate(eight, 4 * period * scale, "hermite", eta=1e-5), None, "step", ">= 8 M steps/s", lambda ours, _: ours <= 1.0 / 8e6),
    ]  # fmt: skip
    for n_bodies in (32, 100, 316):
        system = cluster(n_bodies, seed=n_bodies)
        t_end = (0.05 if n_bodies < 300 else 0.01) * scale
        table.append(
            Row(
                f"IAS15, N = {n_bodies}, t = {t_end:g}",
                ours_integrate(system, t_end, "ias15"),
                theirs_integrate(system, t_end, "ias15"),
                "step",
                "<= 0.8x per step",
                faster(0.8),
            )
        )
    ours_calls, theirs_calls = zero_length_calls(int(20_000 * scale) or 100)
    table.append(Row("Simulation.advance of zero length", ours_calls, theirs_calls, "call", "<= REBOUND's integrate call", faster(1.0)))
    return table + batch_rows(int(128 * scale) or 8, 20.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds (the best is kept)")
    parser.add_argument("--quick", action="store_true", help="short runs, for a smoke test")
    parser.add_argument("--only", default="", help="the rows whose work contains this text (any case), e.g. Hermite")
    args = parser.parse_args()
    console = Console(width=160)
    console.print(
        f"rebound {rebound.__version__}, numba {numba.__version__}, {numba.config.NUMBA_NUM_THREADS} threads; CPU time, best of {args.repeat}"
    )
    measured = [row for row in rows(args.quick) if args.only.lower() in row.work.lower()]
    best: dict[tuple[int, int], float] = {}
    sizes: dict[tuple[int, int], float] = {}
    for round_index in range(args.repeat + 1):  # round 0 warms up and compiles
        for index, row in enumerate(measured):
            for side, function in enumerate((row.ours, row.theirs)):
                if function is None:
                    continue
                started = row.clock()
                size = function()
                elapsed = row.clock() - started
                if round_index > 0:
                    best[index, side] = min(best.get((index, side), np.inf), elapsed)
                    sizes[index, side] = size
    table = Table(title="adaptsim against REBOUND (or the one-by-one rate, or one thread)")
    for column in ("work", "adaptsim", "reference", "time ratio", "target", "met"):
        table.add_column(column, justify="left" if column in ("work", "target") else "right")
    for index, row in enumerate(measured):
        ours = best[index, 0] / sizes[index, 0]
        theirs = best[index, 1] / sizes[index, 1] if (index, 1) in best else 0.0
        per = f"us/{row.unit}"
        table.add_row(
            row.work,
            f"{1e6 * ours:.3f} {per} ({sizes[index, 0]:.0f} {row.unit}s)",
            f"{1e6 * theirs:.3f} {per} ({sizes[index, 1]:.0f})" if theirs else f"{1.0 / ours / 1e6:.2f} M {row.unit}s/s",
            f"{ours / theirs:.2f}" if theirs else "",
            row.target,
            "yes" if row.met(ours, theirs) else "NO",
        )
    console.print(table)


if __name__ == "__main__":
    main()
