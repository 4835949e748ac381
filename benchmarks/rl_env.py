"""Cost of the three-body environment, against the same integration driven step by step from Python in REBOUND.

    python benchmarks/rl_env.py [--steps 2000]

Measures environment steps per second (one environment, two in subprocesses, 64 in the native vector env), the integrator's
steps per second inside the environment, and one environment step (0.1 yr of the paper's initial
conditions at fixed mu) against REBOUND integrating the same 0.1 yr from Python with the observation
and energy computed from its particles, as an AMUSE/REBOUND-driven environment has to.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import rebound
from rich.console import Console
from rich.table import Table

import rl_agents  # noqa: F401
from nbody import initial_conditions as ic
from rl_agents.envs.config import EnvConfig
from rl_agents.envs.three_body import ThreeBodyEnv
from rl_agents.train import make_vec_env


def env_rate(config: EnvConfig, action: int, steps: int) -> tuple[float, float]:
    """Environment steps per second and integrator steps per second for a fixed action."""
    env = ThreeBodyEnv(config.model_copy(update={"episode_steps": 10**9, "max_energy_error": 1e9}))
    env.reset(seed=0)
    env.step(action)  # compile
    env.reset(seed=0)
    integrator_steps = env.simulation.n_steps
    started = time.perf_counter()
    for _ in range(steps):
        env.step(action)
    seconds = time.perf_counter() - started
    return steps / seconds, (env.simulation.n_steps - integrator_steps) / seconds


def vec_env_rate(config: EnvConfig, action: int, steps: int, n_envs: int, kind: str = "subproc") -> float:
    """Environment steps per second summed over ``n_envs`` environments (``kind`` as ``rl_train``'s ``vec_env``)."""
    env = make_vec_env(config.model_copy(update={"episode_steps": 10**9, "max_energy_error": 1e9}), n_envs, 0, kind)
    env.reset()
    actions = np.full(n_envs, action)
    env.step(actions)
    started = time.perf_counter()
    for _ in range(steps // n_envs):
        env.step(actions)
    seconds = time.perf_counter() - started
    env.close()
    return (steps // n_envs) * n_envs / seconds


def rebound_env_rate(mu: float, steps: int) -> tuple[float, float]:
    """REBOUND stepping 0.1 yr per environment step from Python with the collision-time criterion.

    REBOUND has no collision-time step criterion, so the Python side sets ``dt = mu * t_coll`` before every
    integrator step, as the paper's AMUSE driver did, then computes the observation and the energy error.
    Returns environment steps per second and integrator steps per second.
    """
    system = ic.saz_ulibarrena_2025(np.random.default_rng(0))
    sim = rebound.Simulation()
    sim.G = 1.0
    sim.integrator = "leapfrog"  # a fixed-step integrator whose dt Python controls; the closest REBOUND offers
    for m, x, v in zip(system.masses, system.positions, system.velocities, strict=True):
        sim.add(m=float(m), x=x[0], y=x[1], z=x[2], vx=v[0], vy=v[1], vz=v[2])
    e0 = sim.energy()
    interval = 0.1 * ic.YEAR
    n_integrator = 0
    started = time.perf_counter()
    for _ in range(steps):
        target = sim.t + interval
        while target - sim.t > 1e-12 * interval:  # a last step of round-off size would never land exactly
            particles = sim.particles
            x = np.array([[p.x, p.y, p.z] for p in particles])
            v = np.array([[p.vx, p.vy, p.vz] for p in particles])
            t_coll = np.inf
            for i, j in ((0, 1), (0, 2), (1, 2)):
                r = np.linalg.norm(x[i] - x[j])
                u = np.linalg.norm(v[i] - v[j])
                t_coll = min(t_coll, r / u if u > 0 else np.inf, np.sqrt(r**3 / 2.0))
            sim.dt = min(mu * t_coll, target - sim.t)
            sim.steps(1)
            n_integrator += 1
        particles = sim.particles
        observation = np.array([[p.x, p.y, p.vx, p.vy] for p in particles]).ravel()
        _ = abs(sim.energy() - e0) / abs(e0), observation
    seconds = time.perf_counter() - started
    return steps / seconds, n_integrator / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="environment steps per measurement")
    args = parser.parse_args()
    config = EnvConfig()
    action = 6  # mu = 0.01
    mu = config.parameters[action]
    one, integrator_rate = env_rate(config, action, args.steps)
    small_mu, small_mu_integrator = env_rate(config, 3, args.steps // 4)
    two = vec_env_rate(config, action, args.steps, 2)
    native = vec_env_rate(config, action, 20 * args.steps, 64, "native")
    reb, reb_integrator = rebound_env_rate(mu, max(args.steps // 10, 50))
    table = Table(title=f"adaptsim/ThreeBody-v0, paper initial conditions, Hermite collision criterion (rebound {rebound.__version__})")
    for column in ("measure", "value"):
        table.add_column(column, justify="right" if column == "value" else "left")
    table.add_row("env steps/s, 1 env, mu = 0.01", f"{one:,.0f}")
    table.add_row("integrator steps/s inside the env, mu = 0.01", f"{integrator_rate:,.0f}")
    table.add_row("env steps/s, 1 env, mu = 0.001", f"{small_mu:,.0f}")
    table.add_row("integrator steps/s inside the env, mu = 0.001", f"{small_mu_integrator:,.0f}")
    table.add_row("env steps/s, 2 envs in subprocesses, mu = 0.01", f"{two:,.0f}")
    table.add_row("env steps/s, native vector env of 64 (batch engine), mu = 0.01", f"{native:,.0f}")
    table.add_row("REBOUND driven from Python: env steps/s, mu = 0.01", f"{reb:,.0f}")
    table.add_row("REBOUND driven from Python: integrator steps/s", f"{reb_integrator:,.0f}")
    table.add_row("env step cost ratio REBOUND-from-Python / adaptsim", f"{one / reb:.1f}x")
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
