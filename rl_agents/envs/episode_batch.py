"""What the native vector environments share: many episodes in one ``VectorEnv``, each drawing from its own
generator (seeded ``seed, seed + 1, ...`` as Gymnasium's ``SyncVectorEnv`` seeds its copies), and episodes that end
reset in the same step (``AutoresetMode.SAME_STEP``, as Stable-Baselines3 expects), their last observation and the
``final_keys`` of their info kept in ``info["final_obs"]`` and ``info["final_info"]``."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space


class EpisodeBatch(gym.vector.VectorEnv):
    """Seeding, reset and same-step autoreset of ``num_envs`` episodes; a subclass starts episodes
    (:meth:`_start_episodes`), observes them (:meth:`_observations`) and says what a reset's infos are
    (:meth:`_reset_infos`)."""

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP}

    def _set_spaces(self, num_envs: int, observation: gym.Space, action: gym.Space) -> None:
        """The single and batched spaces of ``num_envs`` episodes, and one generator per episode."""
        self.num_envs = num_envs
        self.render_mode = None
        self.single_observation_space, self.single_action_space = observation, action
        self.observation_space = batch_space(observation, num_envs)
        self.action_space = batch_space(action, num_envs)
        self._everyone = np.arange(num_envs)
        self._generators: list[np.random.Generator] = [np.random.default_rng() for _ in range(num_envs)]

    def _start_episodes(self, envs: np.ndarray, options: dict[str, Any]) -> None:
        raise NotImplementedError

    def _observations(self) -> np.ndarray:
        raise NotImplementedError

    def _reset_infos(self) -> dict[str, Any]:
        raise NotImplementedError

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """New episodes for every environment; an int ``seed`` seeds them ``seed, seed + 1, ...``."""
        if seed is not None:
            seeds = [seed + index for index in range(self.num_envs)] if isinstance(seed, int) else list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"{len(seeds)} seeds for {self.num_envs} environments")
            self._generators = [gym.utils.seeding.np_random(s)[0] for s in seeds]
        self._start_episodes(self._everyone, options or {})
        return self._observations(), self._reset_infos()

    def _autoreset(self, observations: np.ndarray, infos: dict[str, Any], ended: np.ndarray, final_keys: tuple[str, ...]) -> None:
        """Keep the last observation and the ``final_keys`` of the episodes that ``ended`` in ``infos``, start new
        ones in their place and put their first observations into ``observations`` (both in place)."""
        if not ended.any():
            return
        envs = np.flatnonzero(ended)
        infos["final_obs"] = np.full(self.num_envs, None, dtype=object)
        infos["final_info"] = {key: infos[key].copy() for key in final_keys}
        for index in envs:
            infos["final_obs"][index] = observations[index].copy()
        infos["_final_obs"] = ended.copy()
        infos["_final_info"] = ended.copy()
        self._start_episodes(envs, {})
        observations[envs] = self._observations()[envs]
