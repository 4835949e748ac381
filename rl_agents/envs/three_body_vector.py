"""The paper's environment for many episodes at once, on the batch engine (:mod:`nbody.batch_engine`).

:class:`ThreeBodyVectorEnv` is a Gymnasium ``VectorEnv`` equal, step by step, to ``num_envs`` copies of
:class:`~rl_agents.envs.three_body.ThreeBodyEnv` run one by one (seeded ``seed, seed + 1, ...``): one compiled,
parallel call integrates every episode's interval with the parameter its action picks, and observations and rewards
are computed for all episodes at once in NumPy. It is the ``vector_entry_point`` of ``adaptsim/ThreeBody-v0``::

    gym.make_vec("adaptsim/ThreeBody-v0", num_envs=64, vectorization_mode="vector_entry_point")

Episodes that end are reset in the same step (``AutoresetMode.SAME_STEP``): their last observation and info are in
``info["final_obs"]`` and ``info["final_info"]``. Wall times are not measured per episode (the single env's
``episode_wall_time``); the cost is in force evaluations, as in the single env's ``info``.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from nbody.batch_engine import BatchEngine
from nbody.time_loop import Status
from rl_agents.envs.config import EnvConfig
from rl_agents.envs.episode_batch import EpisodeBatch
from rl_agents.envs.three_body import (
    OBSERVATION_BOUND,
    continuous_parameter,
    cost_reward,
    draw_system,
    paper_reward,
    three_body_observations,
)

_FINAL_KEYS = ("energy_error", "total_force_evals", "parameter", "time", "status")


class ThreeBodyVectorEnv(EpisodeBatch):
    """``num_envs`` episodes of the paper's task advanced together on the batch engine.

    Parameters
    ----------
    num_envs
        Episodes run side by side.
    config
        An :class:`~rl_agents.envs.config.EnvConfig`, or its fields as keyword arguments.
    """

    def __init__(self, num_envs: int, config: EnvConfig | None = None, **options: Any) -> None:
        if config is not None and options:
            raise TypeError("give either config or keyword options, not both")
        self.config = config if config is not None else EnvConfig(**options)
        self.parameters = np.asarray(self.config.parameters, dtype=float)
        self._log_range = (math.log10(self.parameters[0]), math.log10(self.parameters[-1]))
        if self.config.action == "discrete":
            action: gym.Space = gym.spaces.Discrete(len(self.parameters))
        else:
            action = gym.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        size = self.config.observation_size
        self._set_spaces(num_envs, gym.spaces.Box(-OBSERVATION_BOUND, OBSERVATION_BOUND, shape=(size,), dtype=np.float32), action)
        stepper = self.config.settings(float(self.parameters[0])).stepper()
        self.engine = BatchEngine([stepper], num_envs, 3)
        self._kind = np.full(num_envs, self.engine.kind_of(stepper), dtype=np.int64)
        self.step_index = np.zeros(num_envs, dtype=np.int64)
        self.total_force_evals = np.zeros(num_envs, dtype=np.int64)
        self._energy0 = np.ones(num_envs)
        self._error = np.zeros(num_envs)
        self._parameter = np.full(num_envs, np.nan)

    def parameter_of(self, actions: Any) -> np.ndarray:
        """The integrator parameter each action selects (as :meth:`ThreeBodyEnv.parameter_of`)."""
        if self.config.action == "discrete":
            return self.parameters[np.asarray(actions, dtype=np.int64).reshape(self.num_envs)]
        values = np.asarray(actions, dtype=np.float64).reshape(self.num_envs, -1)[:, 0]
        return np.array([continuous_parameter(float(value), self._log_range) for value in values])

    def _start_episodes(self, envs: np.ndarray, options: dict[str, Any]) -> None:
        """Draw new initial conditions for ``envs`` (each from its own generator) and start the integrator with the
        first parameter, as the single env's simulation starts."""
        for index in envs:
            system = options.get("system") or draw_system(self.config.initial_conditions, self._generators[index])
            self.engine.load(index, system.masses, system.positions, system.velocities, system.softening, 0.0)
        restart = np.zeros(self.num_envs, dtype=bool)
        restart[envs] = True
        self.engine.advance(envs, self._kind, np.full(self.num_envs, self.parameters[0]), self.engine.t, restart)
        self._energy0[envs] = self.engine.energy[envs]
        self.total_force_evals[envs] = self.engine.n_force_evals[envs]
        self._error[envs] = 0.0
        self.step_index[envs] = 0
        self._parameter[envs] = np.nan

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """One interval for every environment, in one compiled call."""
        engine = self.engine
        parameter = self.parameter_of(actions)
        error_before, evals_before = self._error.copy(), self.total_force_evals.copy()
        restart = np.zeros(self.num_envs, dtype=bool)
        engine.advance(
            self._everyone, self._kind, parameter, engine.t + self.config.interval, restart, max_steps=self.config.max_integrator_steps
        )
        self.total_force_evals += engine.n_force_evals
        error = np.abs(engine.energy - self._energy0) / np.abs(self._energy0)
        self._error = np.where(np.isfinite(error), error, np.inf)
        self._parameter = parameter
        if self.config.reward == "paper":
            rewards = paper_reward(self._error, parameter, self.step_index)
        else:
            rewards = cost_reward(error_before, self._error, evals_before, self.total_force_evals, self.config.cost_weight)
        rewards = np.where(np.isfinite(rewards), rewards, -100.0)
        self.step_index += 1
        terminated = (self._error > self.config.max_energy_error) | (engine.status != Status.COMPLETED.value)
        truncated = (self.step_index >= self.config.episode_steps) & ~terminated
        ended = terminated | truncated
        observations = self._observations()
        infos = self._infos(engine.n_force_evals.copy())
        self._autoreset(observations, infos, ended, _FINAL_KEYS)
        return observations, rewards, terminated, truncated, infos

    def _observations(self) -> np.ndarray:
        engine = self.engine
        return three_body_observations(self.config.observation, engine.positions, engine.velocities, engine.collision_time, self._error)

    def _reset_infos(self) -> dict[str, Any]:
        return self._infos(np.zeros(self.num_envs, dtype=np.int64))

    def _infos(self, evals: np.ndarray) -> dict[str, Any]:
        return {
            "energy_error": self._error.copy(),
            "force_evals": evals,
            "total_force_evals": self.total_force_evals.copy(),
            "parameter": self._parameter.copy(),
            "time": self.engine.t.copy(),
            "status": self.engine.status.copy(),
        }
