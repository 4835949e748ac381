"""The target-accuracy environment for many episodes at once, on the batch engine (:mod:`nbody.batch_engine`).

:class:`TargetAccuracyVectorEnv` is a Gymnasium ``VectorEnv`` equal, step by step, to ``num_envs`` copies of
:class:`~rl_agents.envs.target.TargetAccuracyEnv` run one by one (seeded ``seed, seed + 1, ...``, as Gymnasium's
``SyncVectorEnv`` seeds them): one compiled, parallel call integrates every episode's interval, each with the
integrator and parameter its action picks, and the observations, rewards and costs are computed for all episodes
at once in NumPy. It is the ``vector_entry_point`` of ``adaptsim/ThreeBodyTarget-v0``::

    gym.make_vec("adaptsim/ThreeBodyTarget-v0", num_envs=64, vectorization_mode="vector_entry_point")

An episode that ends is reset in the same step (``AutoresetMode.SAME_STEP``, as Stable-Baselines3 expects): its
last observation and info are in ``info["final_obs"]`` and ``info["final_info"]``.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from nbody.batch_engine import BatchEngine
from nbody.time_loop import Status
from rl_agents.envs.episode_batch import EpisodeBatch
from rl_agents.envs.target import body_features, breaks_target, draw_episode, system_scales, target_observations, target_reward
from rl_agents.envs.target_config import TargetConfig
from rl_agents.envs.three_body import OBSERVATION_BOUND, pair_features

_FINAL_KEYS = ("energy_error", "target", "cost", "intervals", "met")


class TargetAccuracyVectorEnv(EpisodeBatch):
    """``num_envs`` target-accuracy episodes advanced together on the batch engine.

    Parameters
    ----------
    num_envs
        Episodes run side by side.
    config
        A :class:`~rl_agents.envs.target_config.TargetConfig`, or its fields as keyword arguments.
    """

    def __init__(self, num_envs: int, config: TargetConfig | None = None, **options: Any) -> None:
        if config is not None and options:
            raise TypeError("give either config or keyword options, not both")
        self.config = config if config is not None else TargetConfig(**options)
        choices = list(self.config.choices)
        steppers = [choice.settings().stepper() for choice in choices]
        observation = gym.spaces.Box(-OBSERVATION_BOUND, OBSERVATION_BOUND, shape=(self.config.observation_size,), dtype=np.float32)
        self._set_spaces(num_envs, observation, gym.spaces.Discrete(self.config.n_actions))
        self.engine = BatchEngine(steppers, num_envs, 3)
        self._n_choices = len(choices)
        self._kind = np.array([self.engine.kind_of(stepper) for stepper in steppers], dtype=np.int64)
        self._value = np.array([c.value for c in choices])
        self._price = np.array([self.config.evaluation_cost[c.integrator] for c in choices])
        self._labels = np.array([c.label for c in choices], dtype=object)
        self.target = np.ones(num_envs)
        self.cost = np.zeros(num_envs)
        self.intervals = np.zeros(num_envs, dtype=np.int64)
        self.redos = np.zeros(num_envs, dtype=np.int64)
        self.choice = np.zeros(num_envs, dtype=np.int64)
        self._energy0 = np.ones(num_envs)
        self._scales = np.zeros((num_envs, 3))  # log10 of each system's own length, speed and time
        self._jump = np.zeros(num_envs)
        self._reference_cost = np.ones(num_envs)  # of each episode's family
        self._saved_x = np.zeros((num_envs, 3, 3))
        self._saved_v = np.zeros((num_envs, 3, 3))
        self._saved_t = np.zeros(num_envs)
        self._saved_energy = np.zeros(num_envs)
        self._has_saved = np.zeros(num_envs, dtype=bool)

    # --- episodes ----------------------------------------------------------------------------------------------------

    def _start_episodes(self, envs: np.ndarray, options: dict[str, Any]) -> None:
        """Draw new initial conditions and targets for ``envs`` (each from its own generator, as the single env does)
        and start their first choice."""
        low, high = self.config.target
        for index in envs:
            rng = self._generators[index]
            system, self._reference_cost[index] = draw_episode(self.config, rng, options)
            self.target[index] = float(options.get("target") or 10.0 ** rng.uniform(math.log10(low), math.log10(high)))
            self.engine.load(index, system.masses, system.positions, system.velocities, system.softening, 0.0)
        self._energy0[envs] = self.engine.energy[envs]
        self._scales[envs] = system_scales(self.engine.masses[envs], self._energy0[envs])
        self.cost[envs] = 0.0
        self.intervals[envs] = 0
        self.redos[envs] = 0
        self._jump[envs] = 0.0
        self._has_saved[envs] = False
        self.choice[envs] = 0
        restart = np.zeros(self.num_envs, dtype=bool)
        restart[envs] = True
        self.engine.advance(envs, self._kind[self.choice], self._value[self.choice], self.engine.t, restart)
        self.cost[envs] += self.engine.n_force_evals[envs] * self._price[0]

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """One interval (or the redo of the last one) for every environment, in one compiled call."""
        engine = self.engine
        actions = np.asarray(actions, dtype=np.int64).reshape(self.num_envs)
        redo = actions >= self._n_choices
        choice = np.where(redo, actions - self._n_choices, actions)
        cost_before, error_before = self.cost.copy(), self.energy_error()
        back = redo & self._has_saved  # back to the state before the last interval
        onward = ~back
        energy_before = np.where(back, self._saved_energy, engine.energy)
        self._saved_x[onward] = engine.positions[onward]
        self._saved_v[onward] = engine.velocities[onward]
        self._saved_t[onward] = engine.t[onward]
        self._saved_energy[onward] = engine.energy[onward]
        self._has_saved[onward] = True
        self.intervals[onward] += 1
        self._back_to_saved(back)
        restart = back | (self._kind[choice] != self._kind[self.choice])
        self.choice = choice
        engine.advance(
            self._everyone, self._kind[choice], self._value[choice], engine.t + self.config.interval, restart,
            max_steps=self.config.max_integrator_steps,
        )  # fmt: skip
        self.cost += engine.n_force_evals * self._price[choice]
        error = self._measure(energy_before)
        repair = self.config.repair_index
        if repair is not None:
            broken = breaks_target(error, self._jump, self.target) & (choice != repair)
            if broken.any():  # redone at once from the state before the interval, with the repair choice
                envs = np.flatnonzero(broken)
                self._back_to_saved(envs)
                self.choice[envs] = repair
                engine.advance(
                    envs, self._kind[self.choice], self._value[self.choice], engine.t + self.config.interval, broken,
                    max_steps=self.config.max_integrator_steps,
                )  # fmt: skip
                self.cost[envs] += engine.n_force_evals[envs] * self._price[repair]
                error = self._measure(energy_before)
        terminated = (error > self.config.max_energy_error) | (engine.status != Status.COMPLETED.value)
        truncated = (self.intervals >= self.config.episode_intervals) & ~terminated
        ended = terminated | truncated
        rewards = target_reward(cost_before, self.cost, error_before, error, ended, self.target, self._reference_cost, self.config)
        observations = self._observations()
        infos = self._infos(ended, redo, error)
        self._autoreset(observations, infos, ended, _FINAL_KEYS)
        return observations, rewards, terminated, truncated, infos

    # --- what the agent sees -----------------------------------------------------------------------------------------

    def _back_to_saved(self, envs: np.ndarray) -> None:
        """A redo for ``envs`` (a mask or indices): back to the state before their last interval."""
        engine = self.engine
        engine.positions[envs] = self._saved_x[envs]
        engine.velocities[envs] = self._saved_v[envs]
        engine.t[envs] = self._saved_t[envs]
        self.redos[envs] += 1

    def _measure(self, energy_before: np.ndarray) -> np.ndarray:
        """The jump of every episode's last interval (from ``energy_before``) and its error (inf after more redos
        than intervals, as the single env)."""
        self._jump = np.abs(self.engine.energy - energy_before) / np.abs(self._energy0)
        return np.where(self.redos > self.config.episode_intervals, np.inf, self.energy_error())

    def energy_error(self) -> np.ndarray:
        """Relative energy error of each episode against its initial energy (inf where not finite)."""
        error = np.abs(self.engine.energy - self._energy0) / np.abs(self._energy0)
        return np.where(np.isfinite(error), error, np.inf)

    def _observations(self) -> np.ndarray:
        engine = self.engine
        bodies = body_features(self.config, pair_features(engine.positions, engine.velocities, engine.collision_time), self._scales)
        left = 1.0 - self.intervals / self.config.episode_intervals
        return target_observations(self.energy_error(), self.target, left, bodies, self._jump)

    def _reset_infos(self) -> dict[str, Any]:
        return self._infos(None)

    def _infos(self, ended: np.ndarray | None, redo: np.ndarray | None = None, final_error: np.ndarray | None = None) -> dict[str, Any]:
        error = self.energy_error()
        infos: dict[str, Any] = {
            "energy_error": error,
            "target": self.target.copy(),
            "cost": self.cost.copy(),
            "choice": self._labels[self.choice],
            "redo": redo if redo is not None else np.zeros(self.num_envs, dtype=bool),
            "intervals": self.intervals.copy(),
            "time": self.engine.t.copy(),
            "status": self.engine.status.copy(),
        }
        if ended is not None:
            infos["met"] = (error if final_error is None else final_error) <= self.target
            infos["_met"] = ended
        return infos
