"""Stable-Baselines3 callbacks of the training runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from rl_agents.case import HeldOutEvaluation
from rl_agents.checkpoints import buffer_path, checkpoint_path, remove_stale, save_replay_buffer
from rl_agents.envs.config import EnvConfig
from rl_agents.policy_evaluation import agent_policy, evaluate_policy
from rl_agents.saved_agents import AgentRecipe, write_agent


class HeldOutEvaluationCallback(BaseCallback):
    """At the first step, every ``evaluation.every`` steps and at the end: median final energy error and mean cost on
    held-out seeds.

    Parameters
    ----------
    env
        The environment the agent is trained in.
    evaluation
        Which held-out seeds, how long, how often.
    history
        Filled with ``timesteps``, ``median_energy_error`` and ``mean_cost`` at each evaluation; a resumed run
        passes the history of its checkpoint and continues it.
    """

    def __init__(self, env: EnvConfig, evaluation: HeldOutEvaluation, history: dict[str, list[float]]) -> None:
        super().__init__()
        self.env, self.evaluation, self.history = env, evaluation, history
        self.next_at = 0

    def _on_training_start(self) -> None:
        done = self.history.get("timesteps") or []
        self.next_at = int(done[-1]) + self.evaluation.every if done else 0

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next_at:
            self.next_at = self.num_timesteps + self.evaluation.every
            self.evaluate()
        return True

    def _on_training_end(self) -> None:
        done = self.history.get("timesteps") or []
        if not done or done[-1] < self.num_timesteps:
            self.evaluate()

    def evaluate(self) -> None:
        """Evaluate the current policy and append to the history (and to the SB3 logger)."""
        seeds = range(self.evaluation.seed_start, self.evaluation.seed_start + self.evaluation.n_seeds)
        result = evaluate_policy(self.env, agent_policy(self.model), seeds, self.evaluation.steps)
        self.history["timesteps"].append(self.num_timesteps)
        self.history["median_energy_error"].append(result.median_energy_error)
        self.history["mean_cost"].append(result.mean_cost)
        self.logger.record("heldout/log10_median_energy_error", float(np.log10(max(result.median_energy_error, 1e-16))))
        self.logger.record("heldout/mean_force_evals", result.mean_cost)


class CheckpointCallback(BaseCallback):
    """Every ``every`` environment steps: the agent and its replay buffer, written atomically, with what a resume needs.

    Parameters
    ----------
    directory
        The checkpoint folder.
    every
        Environment steps between checkpoints.
    recipe
        What rebuilds the agent; its ``extra`` (case fingerprint and fields) is written into every checkpoint.
    history
        The held-out evaluation history (saved as it stands).
    wall_time
        A function giving the training wall time so far (seconds, over every session).
    """

    def __init__(self, directory: Path, every: int, recipe: AgentRecipe, history: dict[str, list[float]], wall_time: Callable[[], float]):
        super().__init__()
        self.directory, self.every, self.recipe, self.history, self.wall_time = directory, every, recipe, history, wall_time
        self.next_at = 0

    def _on_training_start(self) -> None:
        self.next_at = (self.num_timesteps // self.every + 1) * self.every

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next_at:
            self.next_at = (self.num_timesteps // self.every + 1) * self.every
            self.save()
        return True

    def save(self) -> None:
        """Write the checkpoint of the current step (buffer first: a complete agent file marks a complete checkpoint)."""
        steps = self.num_timesteps
        buffer = getattr(self.model, "replay_buffer", None)
        if buffer is not None:
            save_replay_buffer(buffer, buffer_path(self.directory, steps))
        extra = self.recipe.extra | {"history": self.history, "train_wall_time_s": self.wall_time()}
        write_agent(self.model, checkpoint_path(self.directory, steps), replace(self.recipe, extra=extra))
        remove_stale(self.directory)
