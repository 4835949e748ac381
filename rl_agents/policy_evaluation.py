"""Run policies in the environment: one episode, or many held-out seeds, and their accuracy/cost points."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np

from rl_agents.envs.config import EnvConfig
from rl_agents.envs.three_body import ThreeBodyEnv

Policy = Callable[[np.ndarray], object]


@dataclass
class Episode:
    """One evaluation episode: the final relative energy error, the cost, and the history."""

    final_energy_error: float
    force_evals: int
    wall_time: float
    steps: int
    terminated: bool
    energy_error: np.ndarray = field(repr=False)
    parameter: np.ndarray = field(repr=False)
    time: np.ndarray = field(repr=False)


def run_episode(env: ThreeBodyEnv, policy: Policy, seed: int, n_steps: int) -> Episode:
    """Run ``policy`` from the initial conditions of ``seed`` for ``n_steps`` (or until termination)."""
    observation, info = env.reset(seed=seed)
    errors, parameters, times = [], [], []
    terminated = False
    for _ in range(n_steps):
        observation, _, terminated, _, info = env.step(policy(observation))
        errors.append(info["energy_error"])
        parameters.append(info["parameter"])
        times.append(info["time"])
        if terminated:
            break
    return Episode(
        final_energy_error=float(info["energy_error"]),
        force_evals=int(info["total_force_evals"]),
        wall_time=env.episode_wall_time,
        steps=len(errors),
        terminated=terminated,
        energy_error=np.asarray(errors),
        parameter=np.asarray(parameters),
        time=np.asarray(times),
    )


@dataclass
class Evaluation:
    """A policy over many seeds."""

    label: str
    final_energy_error: np.ndarray
    force_evals: np.ndarray
    wall_time: np.ndarray
    terminated: np.ndarray

    @property
    def median_energy_error(self) -> float:
        """Median of the final relative energy errors."""
        return float(np.median(self.final_energy_error))

    @property
    def mean_cost(self) -> float:
        """Mean number of force evaluations per run."""
        return float(np.mean(self.force_evals))


def evaluate_policy(config: EnvConfig, policy: Policy, seeds: Sequence[int], n_steps: int, label: str = "") -> Evaluation:
    """Run ``policy`` on each seed with an environment of ``config`` (no early truncation before ``n_steps``)."""
    env = ThreeBodyEnv(config.model_copy(update={"episode_steps": n_steps}))
    episodes = [run_episode(env, policy, seed, n_steps) for seed in seeds]
    return Evaluation(
        label=label,
        final_energy_error=np.array([e.final_energy_error for e in episodes]),
        force_evals=np.array([e.force_evals for e in episodes]),
        wall_time=np.array([e.wall_time for e in episodes]),
        terminated=np.array([e.terminated for e in episodes]),
    )


def agent_policy(model: Any) -> Policy:
    """The deterministic policy of a Stable-Baselines3 model."""
    return lambda observation: model.predict(observation, deterministic=True)[0]


def fixed_policy(config: EnvConfig, index: int) -> Policy:
    """The policy that always selects ``config.parameters[index]``."""
    if config.action == "discrete":
        return lambda observation: index
    low, high = np.log10(config.parameters[0]), np.log10(config.parameters[-1])
    value = 0.0 if high == low else 2.0 * (np.log10(config.parameters[index]) - low) / (high - low) - 1.0
    return lambda observation: np.array([value], dtype=np.float32)


def front_position(point: tuple[float, float], front: Sequence[tuple[float, float]]) -> tuple[bool, bool]:
    """Whether an (energy error, cost) point is dominated by, and lies below, a front of fixed-parameter points.

    Parameters
    ----------
    point
        ``(median energy error, mean cost)`` of the agent.
    front
        The same for every fixed parameter.

    Returns
    -------
    dominated, below_front
        ``dominated``: some fixed point is at least as good on both axes. ``below_front``: in log-log,
        the point's error is below the straight line joining the two fixed points whose costs bracket
        its cost (False when no pair brackets it).
    """
    error, cost = point
    dominated = any(e <= error and c <= cost for e, c in front)
    ordered = sorted(front, key=lambda p: p[1])
    below = False
    for (e0, c0), (e1, c1) in pairwise(ordered):
        if c0 <= cost <= c1 and c1 > c0:
            fraction = (np.log10(cost) - np.log10(c0)) / (np.log10(c1) - np.log10(c0))
            line = np.log10(e0) + fraction * (np.log10(e1) - np.log10(e0))
            below = bool(np.log10(error) < line)
            break
    return dominated, below
