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

from rl_agents.envs.target_config import TargetConfig
from rl_agents.envs.target_vector import TargetAccuracyVectorEnv


class Policy(Protocol):
    """What :func:`run_policy` runs: actions for many episodes at once, from their observations ``(B, 11)`` and the
    infos of the last step (arrays of ``B``), and ``reset(B)`` for ``B`` new episodes (the policies of
    :mod:`rl_agents.hand_rules`)."""

    def reset(self, n_envs: int) -> None: ...

    def __call__(self, observations: np.ndarray, infos: dict[str, Any]) -> np.ndarray: ...


@dataclass(frozen=True)
class Outcomes:
    """Final relative energy errors (inf for a run that broke down) and costs (weighted force evaluations), by seed."""

    errors: np.ndarray
    costs: np.ndarray

    def success(self, eps: float) -> np.ndarray:
        """Whether each run ended at or below ``eps``."""
        return self.errors <= eps


def run_policy(config: TargetConfig, policy: Policy, seeds: Sequence[int], target: float = 1.0) -> Outcomes:
    """One episode per seed, all at once in the vector environment (equal to one environment per seed), with the
    target ``target`` (policies that do not read it, as fixed choices and the hand rules, can keep the default)."""
    env = TargetAccuracyVectorEnv(len(seeds), config)
    observations, infos = env.reset(seed=[int(seed) for seed in seeds], options={"target": target})
    policy.reset(len(seeds))
    errors, costs = np.zeros(len(seeds)), np.zeros(len(seeds))
    running = np.ones(len(seeds), dtype=bool)
    while running.any():
        observations, _, terminated, truncated, infos = env.step(policy(observations, infos))
        ended = (terminated | truncated) & running
        if ended.any():  # (an episode that ended was reset: its outcome is in final_info)
            final = infos["final_info"]
            errors[ended] = np.where(terminated[ended], np.inf, final["energy_error"][ended])
            costs[ended] = final["cost"][ended]
            running &= ~ended
    return Outcomes(errors, costs)


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
