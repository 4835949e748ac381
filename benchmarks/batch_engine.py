"""The batch engine against one Simulation per system, and the native vector environment against the single one.

    python benchmarks/batch_engine.py [--systems 64] [--intervals 20] [--repeat 5]

Part 1, per integrator: ``--systems`` systems of the paper's initial conditions, each advanced ``--intervals``
intervals of 0.1 yr, (a) one :class:`~nbody.simulate.Simulation` per system, interval by interval from Python
(what one environment per system does), (b) the batch engine on 1 thread, (c) on 2 threads. Intervals per second,
best of ``--repeat`` interleaved repeats; (b)/(a) is the gain per core, (c)/(b) the thread scaling, (c)/(a) the
gain on the machine. Wall times: CPU time would count the OpenMP workers' spin-wait after a parallel call into
whatever runs next.

Part 2: environment steps per second of ``adaptsim/ThreeBodyTarget-v0`` with actions drawn at random from its
default action space (every choice and every redo), one environment stepped from Python against the native vector
environment with 64 episodes, on all threads.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numba
import numpy as np
from rich.console import Console
from rich.table import Table

from nbody import initial_conditions as ic
from nbody.batch_engine import BatchEngine
from nbody.integrators.settings import resolve
from nbody.integrators.stepper import Stepper
from nbody.integrators.table import STEP_TABLE
from nbody.simulate import Simulation
from rl_agents.envs.target import TargetAccuracyEnv
from rl_agents.envs.target_vector import TargetAccuracyVectorEnv

INTERVAL = 0.1 * ic.YEAR
STEPPERS = {
    "hermite": resolve("hermite", eta=4e-3, criterion="collision"),
    "hermite aarseth": resolve("hermite", eta=2e-4, criterion="aarseth"),
    "leapfrog": resolve("leapfrog", dt=1e-3),
    "rk": resolve("rk", tol=1e-10),
    "ias15": resolve("ias15", tol=1e-9),
    "ias15 dt": resolve("ias15", dt=0.1 * INTERVAL),
    "archain": resolve("archain", tol=1e-12),
}


def _systems(n: int) -> list:
    rng = np.random.default_rng(0)
    return [ic.saz_ulibarrena_2025(rng) for _ in range(n)]


def one_by_one(stepper: Stepper, systems: list, intervals: int) -> Callable[[], None]:
    """One Simulation per system, advanced interval by interval."""

    def run() -> None:
        criterion = "collision" if STEP_TABLE[stepper.code] == ("hermite", "step_collision") else "aarseth"
        for system in systems:
            simulation = Simulation(system, stepper.name, criterion=criterion, **{stepper.parameter_name: stepper.parameter})
            for _ in range(intervals):
                simulation.advance(simulation.t + INTERVAL)

    return run


def batched(stepper: Stepper, systems: list, intervals: int) -> Callable[[], None]:
    """The batch engine, all systems per call."""
    n = len(systems)
    everyone = np.arange(n)
    engine = BatchEngine([stepper], n, 3)
    kind = np.full(n, engine.kind_of(stepper))
    parameter = np.full(n, stepper.parameter)

    def run() -> None:
        for index, system in enumerate(systems):
            engine.load(index, system.masses, system.positions, system.velocities, system.softening, 0.0)
        restart = np.ones(n, dtype=bool)
        for _ in range(intervals):
            engine.advance(everyone, kind, parameter, engine.t + INTERVAL, restart)
            restart[:] = False

    return run


def best(functions: dict[str, Callable[[], None]], repeat: int) -> dict[str, float]:
    """Best wall seconds of each function, over interleaved repeats (the first call of each not counted: it may
    compile). A name ending in ``@1`` runs on one thread."""
    for function in functions.values():
        function()
    times = dict.fromkeys(functions, np.inf)
    for _ in range(repeat):
        for name, function in functions.items():
            numba.set_num_threads(1 if name.endswith("@1") else numba.config.NUMBA_NUM_THREADS)
            started = time.perf_counter()
            function()
            times[name] = min(times[name], time.perf_counter() - started)
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    return times


def env_rates(steps: int, n_envs: int, repeat: int) -> tuple[float, float]:
    """Environment steps per second: the single env, and the vector env with ``n_envs`` episodes."""
    rng = np.random.default_rng(0)
    single, vector = TargetAccuracyEnv(), TargetAccuracyVectorEnv(n_envs)
    single.reset(seed=0)
    vector.reset(seed=0)
    single_actions = rng.integers(0, single.action_space.n, size=steps)
    vector_actions = rng.integers(0, vector.single_action_space.n, size=(steps // n_envs, n_envs))

    def run_single() -> None:
        for action in single_actions:
            _, _, terminated, truncated, _ = single.step(action)
            if terminated or truncated:
                single.reset()

    def run_vector() -> None:
        for actions in vector_actions:
            vector.step(actions)

    times = best({"single": run_single, "vector": run_vector}, repeat)
    return steps / times["single"], vector_actions.size / times["vector"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", type=int, default=64)
    parser.add_argument("--intervals", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--env-steps", type=int, default=12_800)
    args = parser.parse_args()
    systems = _systems(args.systems)
    work = args.systems * args.intervals
    table = Table(title=f"{args.systems} systems x {args.intervals} intervals of 0.1 yr, intervals per second (best of {args.repeat})")
    columns = ("integrator", "one by one", "engine 1 thread", "engine 2 threads", "per core", "2 threads / 1", "2 threads / one by one")
    for column in columns:
        table.add_column(column, justify="right")
    for name, stepper in STEPPERS.items():
        times = best(
            {
                "single@1": one_by_one(stepper, systems, args.intervals),
                "engine@1": batched(stepper, systems, args.intervals),
                "engine": batched(stepper, systems, args.intervals),
            },
            args.repeat,
        )
        table.add_row(
            name,
            f"{work / times['single@1']:,.0f}",
            f"{work / times['engine@1']:,.0f}",
            f"{work / times['engine']:,.0f}",
            f"{times['single@1'] / times['engine@1']:.2f}",
            f"{times['engine@1'] / times['engine']:.2f}",
            f"{times['single@1'] / times['engine']:.2f}",
        )
    console = Console(width=160)
    console.print(table)
    single, vector = env_rates(args.env_steps, 64, args.repeat)
    envs = Table(title=f"adaptsim/ThreeBodyTarget-v0, random actions, env steps per second (best of {args.repeat})")
    for column in ("single env", "vector env (64)", "ratio"):
        envs.add_column(column, justify="right")
    envs.add_row(f"{single:,.0f}", f"{vector:,.0f}", f"{vector / single:.1f}")
    console.print(envs)


if __name__ == "__main__":
    main()
