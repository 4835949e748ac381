"""CPU time per force evaluation of each integrator, relative to IAS15's: the weights of the target-accuracy
environment's cost (``rl_agents.envs.target_config.EVALUATION_COST``).

    python benchmarks/evaluation_cost.py [--seeds 20] [--intervals 100] [--repeat 3]

Each integrator, at a typical parameter, runs ``--seeds`` systems of the paper's initial conditions for
``--intervals`` intervals of 0.1 yr, interval by interval as the environment does (so the per-call overhead is in
the price). CPU time (``time.process_time``), best of ``--repeat`` rounds with the integrators interleaved, divided
by the force evaluations of the run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from nbody import initial_conditions as ic
from nbody.simulate import Simulation

CONFIGURATIONS = [
    ("ias15", {"tol": 1e-9}),
    ("hermite", {"eta": 4e-3, "criterion": "collision"}),
    ("leapfrog", {"eta": 1e-3}),
    ("rk", {"tol": 1e-10}),
    ("archain", {"tol": 1e-12}),
]


def _run(name: str, parameter: dict, systems: list, intervals: int) -> tuple[float, int]:
    """(CPU seconds, force evaluations) of every system over ``intervals`` intervals."""
    evals = 0
    started = time.process_time()
    for system in systems:
        simulation = Simulation(system, name, **parameter)
        for k in range(1, intervals + 1):
            simulation.advance(k * 0.1 * ic.YEAR)
        evals += simulation.n_force_evals
    return time.process_time() - started, evals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--intervals", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    systems = [ic.saz_ulibarrena_2025(np.random.default_rng(seed)) for seed in range(args.seeds)]
    for name, parameter in CONFIGURATIONS:  # compile (or load) before timing
        _run(name, parameter, systems[:1], 1)
    best: dict[str, tuple[float, int]] = {}
    for _ in range(args.repeat):
        for name, parameter in CONFIGURATIONS:
            cpu, evals = _run(name, parameter, systems, args.intervals)
            if name not in best or cpu < best[name][0]:
                best[name] = (cpu, evals)
    reference = best["ias15"][0] / best["ias15"][1]
    table = Table("integrator", "parameter", "CPU s", "force evaluations", "us / evaluation", "relative to IAS15")
    for name, parameter in CONFIGURATIONS:
        cpu, evals = best[name]
        table.add_row(name, str(parameter), f"{cpu:.3f}", str(evals), f"{1e6 * cpu / evals:.3f}", f"{cpu / evals / reference:.2f}")
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
