"""Stable-Baselines3 callbacks of the training runs."""

from __future__ import annotations

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from rl_agents.case import HeldOutEvaluation
from rl_agents.envs.config import EnvConfig
from rl_agents.policy_evaluation import agent_policy, evaluate_policy


class HeldOutEvaluationCallback(BaseCallback):
    """Every ``evaluation.every`` steps: median final energy error and mean cost on held-out seeds.

    Parameters
    ----------
    env
        The environment the agent is trained in.
    evaluation
        Which held-out seeds, how long, how often.
    history
        Filled with ``timesteps``, ``median_energy_error`` and ``mean_cost`` at each evaluation.
    """

    def __init__(self, env: EnvConfig, evaluation: HeldOutEvaluation, history: dict[str, list[float]]) -> None:
        super().__init__()
        self.env, self.evaluation, self.history = env, evaluation, history
        self.next_at = 0

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next_at:
            self.next_at = self.num_timesteps + self.evaluation.every
            seeds = range(self.evaluation.seed_start, self.evaluation.seed_start + self.evaluation.n_seeds)
            result = evaluate_policy(self.env, agent_policy(self.model), seeds, self.evaluation.steps)
            self.history["timesteps"].append(self.num_timesteps)
            self.history["median_energy_error"].append(result.median_energy_error)
            self.history["mean_cost"].append(result.mean_cost)
            self.logger.record("heldout/log10_median_energy_error", float(np.log10(max(result.median_energy_error, 1e-16))))
            self.logger.record("heldout/mean_force_evals", result.mean_cost)
        return True
