"""A Gymnasium vector environment that resets its episodes in the same step, seen as a Stable-Baselines3 ``VecEnv``.

Stable-Baselines3 drives its own ``VecEnv`` interface (``step_async``/``step_wait``, ``done = terminated or
truncated``, one info dict per environment with ``terminal_observation`` and ``TimeLimit.truncated``). A native
Gymnasium vector environment with ``AutoresetMode.SAME_STEP`` (e.g.
:class:`~rl_agents.envs.target_vector.TargetAccuracyVectorEnv`) already resets the way SB3 expects, so this
adapter only translates the return values; it keeps the vector environment's speed (no subprocess, no loop over
environments in Python beyond the infos of the episodes that end).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn


class SB3VectorAdapter(VecEnv):
    """``vector_env`` (same-step autoreset) as an SB3 ``VecEnv``.

    Parameters
    ----------
    vector_env
        A Gymnasium ``VectorEnv`` whose metadata says ``autoreset_mode: AutoresetMode.SAME_STEP``.
    final_keys
        Keys of the vector env's ``final_info`` copied into the info of each episode that ends (e.g. ``met``).
    """

    def __init__(self, vector_env: gym.vector.VectorEnv, final_keys: Sequence[str] = ()) -> None:
        if vector_env.metadata.get("autoreset_mode") != AutoresetMode.SAME_STEP:
            raise ValueError("the vector environment must reset its episodes in the same step (AutoresetMode.SAME_STEP)")
        self.vector_env = vector_env  # (before SB3's constructor, which asks it for its render mode)
        super().__init__(vector_env.num_envs, vector_env.single_observation_space, vector_env.single_action_space)
        self.final_keys = tuple(final_keys)
        self._actions: np.ndarray = np.zeros(vector_env.num_envs, dtype=np.int64)

    def reset(self) -> VecEnvObs:
        """Reset every environment (with the seeds given by :meth:`seed`, once)."""
        seeds = None if all(seed is None for seed in self._seeds) else list(self._seeds)
        observations, _ = self.vector_env.reset(seed=seeds)  # type: ignore[arg-type]  # (Gymnasium takes a list too)
        self._reset_seeds()
        return observations

    def step_async(self, actions: np.ndarray) -> None:
        """Keep the actions for :meth:`step_wait`."""
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        """Step every environment: observations, rewards, dones and one info dict per environment."""
        observations, rewards, terminated, truncated, info = self.vector_env.step(self._actions)
        dones = terminated | truncated
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        for index in np.flatnonzero(dones):
            ended = infos[index]
            ended["terminal_observation"] = info["final_obs"][index]
            ended["TimeLimit.truncated"] = bool(truncated[index] and not terminated[index])
            for key in self.final_keys:
                ended[key] = info["final_info"][key][index]
        return observations, rewards.astype(np.float32), dones, infos

    def close(self) -> None:
        """Close the vector environment."""
        self.vector_env.close()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """The vector environment's attribute, once per environment asked for."""
        return [getattr(self.vector_env, attr_name)] * len(list(self._get_indices(indices)))

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set an attribute of the vector environment (shared by every environment)."""
        setattr(self.vector_env, attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any) -> list[Any]:
        """Call a method of the vector environment, once per environment asked for."""
        method = getattr(self.vector_env, method_name)
        return [method(*method_args, **method_kwargs) for _ in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        """No environment is wrapped (the episodes live inside one vector environment)."""
        return [False] * len(list(self._get_indices(indices)))
