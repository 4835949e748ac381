"""Stable-Baselines3 callbacks of the training runs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from rl_agents.case import HeldOutEvaluation
from rl_agents.checkpoints import buffer_path, checkpoint_path, remove_stale, save_replay_buffer
from rl_agents.envs.config import EnvConfig
from rl_agents.envs.target_config import TargetConfig
from rl_agents.normalization import normalization_entry
from rl_agents.policy_evaluation import evaluate_policy
from rl_agents.saved_agents import AgentRecipe, write_agent
from rl_agents.target_evaluation import run_policy
from rl_agents.target_train_case import TargetHeldOut


class ScheduledEvaluation(BaseCallback):
    """Evaluate the agent at the first step, every ``every`` environment steps and at the end, appending to
    ``history`` (a resumed run passes the history of its checkpoint and continues it); subclasses say what is
    measured (:meth:`measure`).

    Parameters
    ----------
    every
        Environment steps between evaluations.
    keys
        What :meth:`measure` returns, recorded in the history besides ``timesteps``.
    """

    def __init__(self, every: int, keys: Sequence[str]) -> None:
        super().__init__()
        self.every, self.keys = every, tuple(keys)
        self.history: dict[str, list[float]] = {key: [] for key in ("timesteps", *self.keys)}
        self.next_at = 0

    def _on_training_start(self) -> None:
        done = self.history.get("timesteps") or []
        self.next_at = int(done[-1]) + self.every if done else 0

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next_at:
            self.next_at = self.num_timesteps + self.every
            self.evaluate()
        return True

    def _on_training_end(self) -> None:
        done = self.history.get("timesteps") or []
        if not done or done[-1] < self.num_timesteps:
            self.evaluate()

    def evaluate(self) -> None:
        """Evaluate the current policy and append to the history (and to the SB3 logger)."""
        values = self.measure()
        self.history["timesteps"].append(self.num_timesteps)
        for key in self.keys:
            self.history[key].append(values[key])

    def measure(self) -> dict[str, float]:
        """The values of ``keys`` for the current policy."""
        raise NotImplementedError

    def act(self, observations: np.ndarray) -> np.ndarray:
        """The current policy's deterministic actions, on observations as the training env normalizes them."""
        normalizer = self.model.get_vec_normalize_env()
        seen = normalizer.normalize_obs(observations) if normalizer is not None else observations
        return self.model.predict(seen, deterministic=True)[0]


class HeldOutEvaluationCallback(ScheduledEvaluation):
    """Median final energy error and mean cost of the agent on held-out seeds of the paper's environment.

    Parameters
    ----------
    env
        The environment the agent is trained in.
    evaluation
        Which held-out seeds, how long, how often.
    """

    def __init__(self, env: EnvConfig, evaluation: HeldOutEvaluation) -> None:
        super().__init__(evaluation.every, ("median_energy_error", "mean_cost"))
        self.env, self.evaluation = env, evaluation

    def measure(self) -> dict[str, float]:
        """Median final energy error and mean force evaluations on the held-out seeds."""
        seeds = range(self.evaluation.seed_start, self.evaluation.seed_start + self.evaluation.n_seeds)
        result = evaluate_policy(self.env, self.act, seeds, self.evaluation.steps)
        self.logger.record("heldout/log10_median_energy_error", float(np.log10(max(result.median_energy_error, 1e-16))))
        self.logger.record("heldout/mean_force_evals", result.mean_cost)
        return {"median_energy_error": result.median_energy_error, "mean_cost": result.mean_cost}


class TargetEvaluationCallback(ScheduledEvaluation):
    """Success rate and mean cost of the agent at each target on held-out seeds of the target-accuracy environment
    (history keys ``success_<eps>`` and ``cost_<eps>``).

    Parameters
    ----------
    env
        The environment the agent is trained in.
    evaluation
        Which held-out seeds, which targets, how often.
    """

    def __init__(self, env: TargetConfig, evaluation: TargetHeldOut) -> None:
        keys = [f"{what}_{eps:g}" for eps in evaluation.targets for what in ("success", "cost")]
        super().__init__(evaluation.every, keys)
        self.env, self.evaluation = env, evaluation

    def reset(self, n_envs: int) -> None:
        """Nothing to forget (the agent is a function of the observation): the :class:`Policy` protocol."""

    def __call__(self, observations: np.ndarray, infos: dict[str, Any]) -> np.ndarray:
        """The agent's actions: the :class:`Policy` protocol."""
        return self.act(observations)

    def measure(self) -> dict[str, float]:
        """Success rate and mean cost per target."""
        seeds = range(self.evaluation.seed_start, self.evaluation.seed_start + self.evaluation.n_seeds)
        values: dict[str, float] = {}
        for eps in self.evaluation.targets:
            outcomes = run_policy(self.env, self, seeds, target=eps)
            values[f"success_{eps:g}"] = float(outcomes.success(eps).mean())
            values[f"cost_{eps:g}"] = float(outcomes.costs.mean())
            self.logger.record(f"heldout/success_{eps:g}", values[f"success_{eps:g}"])
            self.logger.record(f"heldout/cost_{eps:g}", values[f"cost_{eps:g}"])
        return values


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
        extra = self.recipe.extra | {"history": self.history, "train_wall_time_s": self.wall_time()} | normalization_entry(self.model)
        write_agent(self.model, checkpoint_path(self.directory, steps), replace(self.recipe, extra=extra))
        remove_stale(self.directory)
