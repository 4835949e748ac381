"""Kickstart an actor-critic agent from a teacher policy before reinforcement learning: run the teacher in the
training environment, fit the actor to its actions (behaviour cloning, cross-entropy) and the critic to the
discounted returns of its episodes (Monte-Carlo regression), then let the algorithm improve on it.

Why: on the target-accuracy task the action that repairs a broken budget (redo the interval that broke it with the
regularised integrator) is worth several units of reward, but the states that need it are rare (a few intervals in
a thousand at tight targets) and a policy that has learnt early that redos cost money never tries it there again:
PPO from scratch never learns it. A teacher that does it puts the action where it belongs; the critic fitted to the
teacher's returns keeps the first policy updates from undoing it (Schmitt et al. 2018, *Kickstarting deep
reinforcement learning*; Hester et al. 2018, *Deep Q-learning from demonstrations*).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from rl_agents.target_evaluation import Policy


@dataclass(frozen=True)
class Demonstrations:
    """The teacher's steps in ``B`` environments for ``T`` steps: raw observations ``(T, B, d)``, actions, rewards
    and dones ``(T, B)``."""

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    dones: np.ndarray


def collect(env: VecEnv, teacher: Policy, steps: int) -> Demonstrations:
    """Run ``teacher`` on ``env`` (reset here) for ``steps`` environment steps in all (rounded up to whole vector
    steps); observations are recorded raw (before a ``VecNormalize``, which keeps updating its statistics)."""
    normalizer = env if isinstance(env, VecNormalize) else None
    n_envs = env.num_envs
    observations = env.reset()
    teacher.reset(n_envs)
    seen, actions, rewards, dones = [], [], [], []
    for _ in range(-(-steps // n_envs)):
        raw = normalizer.get_original_obs() if normalizer is not None else observations
        action = np.asarray(teacher(np.asarray(raw), {}))
        observations, reward, done, _ = env.step(action)
        seen.append(np.array(raw, dtype=np.float32))
        actions.append(action)
        rewards.append(np.asarray(reward, dtype=float))
        dones.append(np.asarray(done, dtype=bool))
    return Demonstrations(np.stack(seen), np.stack(actions), np.stack(rewards), np.stack(dones))


def discounted_returns(rewards: np.ndarray, dones: np.ndarray, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """Discounted returns ``G_t = r_t + gamma G_{t+1}`` within each episode (``(T, B)`` arrays), and which steps
    belong to an episode that ended within the data (the others have no complete return)."""
    returns = np.zeros_like(rewards)
    complete = np.zeros(rewards.shape, dtype=bool)
    following = np.zeros(rewards.shape[1])
    ended = np.zeros(rewards.shape[1], dtype=bool)
    for step in range(rewards.shape[0] - 1, -1, -1):
        following = np.where(dones[step], 0.0, following)
        ended |= dones[step]
        following = rewards[step] + gamma * following
        returns[step], complete[step] = following, ended
    return returns, complete


def kickstart(model: Any, teacher: Policy, steps: int, epochs: int, batch_size: int, learning_rate: float = 1e-3) -> dict[str, float]:
    """Fit ``model``'s actor to ``teacher``'s actions and its critic to the teacher's returns, on ``steps`` steps
    of the model's environment; returns the agreement with the teacher and the critic's mean squared error, before
    and after (on the data fitted)."""
    env = model.get_env()
    demonstrations = collect(env, teacher, steps)
    returns, complete = discounted_returns(demonstrations.rewards, demonstrations.dones, model.gamma)
    normalizer = model.get_vec_normalize_env()
    raw = demonstrations.observations[complete]
    seen = normalizer.normalize_obs(raw) if normalizer is not None else raw
    policy = model.policy
    observations = torch.as_tensor(seen, dtype=torch.float32)
    actions = torch.as_tensor(demonstrations.actions[complete], dtype=torch.long)
    targets = torch.as_tensor(returns[complete], dtype=torch.float32)
    optimizer = torch.optim.Adam(policy.parameters(), lr=learning_rate)
    generator = torch.Generator().manual_seed(int(model.seed or 0))
    before = _fit_quality(policy, observations, actions, targets)
    policy.set_training_mode(True)
    for _ in range(epochs):
        for batch in torch.randperm(len(actions), generator=generator).split(batch_size):
            values, log_prob, _ = policy.evaluate_actions(observations[batch], actions[batch])
            loss = -log_prob.mean() + torch.nn.functional.mse_loss(values.flatten(), targets[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    policy.set_training_mode(False)
    after = _fit_quality(policy, observations, actions, targets)
    return {
        "kickstart_samples": float(len(actions)),
        "kickstart_agreement_before": before[0],
        "kickstart_agreement": after[0],
        "kickstart_agreement_per_action": after[1],
        "kickstart_value_mse_before": before[2],
        "kickstart_value_mse": after[2],
    }


def _fit_quality(policy: Any, observations: torch.Tensor, actions: torch.Tensor, returns: torch.Tensor) -> tuple[float, float, float]:
    """The fraction of the teacher's actions the actor picks (deterministically), the same averaged over the
    teacher's actions (each action counts once however rare) and the critic's mean squared error."""
    with torch.no_grad():
        agrees = (policy.get_distribution(observations).mode() == actions).float()
        values = policy.predict_values(observations).flatten()
    per_action = [float(agrees[actions == action].mean()) for action in torch.unique(actions)]
    return float(agrees.mean()), float(np.mean(per_action)), float(((values - returns) ** 2).mean())
