"""Run policies on the target-accuracy environment over seeds, and the statistics of their outcomes.

A policy's run does not depend on the target unless the policy reads it (fixed choices and the hand rules do not),
so one episode per seed gives its final energy error and its cost, and its success at every target ``eps`` is
``error <= eps``. Confidence intervals are percentile bootstraps over seeds; comparisons of two policies resample
the same seeds for both (paired).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from rl_agents.envs.target import TargetAccuracyEnv
from rl_agents.envs.target_config import TargetConfig


class Policy(Protocol):
    """What :func:`run_policy` runs: an action from the observation and the last ``info``, and ``reset`` per episode
    (the policies of :mod:`rl_agents.hand_rules`)."""

    def reset(self) -> None: ...

    def __call__(self, observation: np.ndarray, info: dict[str, Any]) -> int: ...


@dataclass(frozen=True)
class Outcomes:
    """Final relative energy errors (inf for a run that broke down) and costs (weighted force evaluations), by seed."""

    errors: np.ndarray
    costs: np.ndarray

    def success(self, eps: float) -> np.ndarray:
        """Whether each run ended at or below ``eps``."""
        return self.errors <= eps


def run_policy(config: TargetConfig, policy: Policy, seeds: Sequence[int]) -> Outcomes:
    """One episode per seed (the target fixed at 1: the policies here do not read it)."""
    env = TargetAccuracyEnv(config)
    errors, costs = [], []
    for seed in seeds:
        observation, info = env.reset(seed=int(seed), options={"target": 1.0})
        policy.reset()
        ended = False
        while not ended:
            observation, _, terminated, truncated, info = env.step(policy(observation, info))
            ended = terminated or truncated
        errors.append(info["energy_error"] if not terminated else np.inf)
        costs.append(info["cost"])
    return Outcomes(np.asarray(errors, dtype=float), np.asarray(costs, dtype=float))


def bootstrap_ci(
    statistic: Callable[[np.ndarray], float], n_seeds: int, rng: np.random.Generator, resamples: int = 2000, level: float = 0.95
) -> tuple[float, float]:
    """Percentile interval of ``statistic(indices)`` over resampled seed indices."""
    values = np.array([statistic(rng.integers(0, n_seeds, n_seeds)) for _ in range(resamples)])
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


def success_ci(outcomes: Outcomes, eps: float, rng: np.random.Generator) -> tuple[float, float, float]:
    """Success rate at ``eps`` and its 95 % bootstrap interval."""
    hits = outcomes.success(eps).astype(float)
    low, high = bootstrap_ci(lambda index: float(hits[index].mean()), hits.size, rng)
    return float(hits.mean()), low, high


def cost_ci(outcomes: Outcomes, rng: np.random.Generator) -> tuple[float, float, float]:
    """Mean cost and its 95 % bootstrap interval."""
    costs = outcomes.costs
    low, high = bootstrap_ci(lambda index: float(costs[index].mean()), costs.size, rng)
    return float(costs.mean()), low, high


def cost_ratio_ci(numerator: Outcomes, denominator: Outcomes, rng: np.random.Generator) -> tuple[float, float, float]:
    """Ratio of mean costs (same seeds) and its 95 % paired bootstrap interval."""
    a, b = numerator.costs, denominator.costs
    low, high = bootstrap_ci(lambda index: float(a[index].mean() / b[index].mean()), a.size, rng)
    return float(a.mean() / b.mean()), low, high
