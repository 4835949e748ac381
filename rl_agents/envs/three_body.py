"""A Gymnasium environment where the agent picks the integrator's time-step parameter every interval.

Each :meth:`ThreeBodyEnv.step` integrates ``interval`` time units (0.1 yr by default) with the chosen
parameter, using the same compiled loop as :func:`nbody.simulate.integrate`, and counts the cost in
force evaluations. Episodes end when the relative energy error exceeds ``max_energy_error``
(terminated) or after ``episode_steps`` steps (truncated).

Reference: V. Saz Ulibarrena, S. Portegies Zwart (2025), "Reinforcement learning for adaptive
time-stepping in the chaotic gravitational three-body problem", Commun. Nonlinear Sci. Numer.
Simul.; arXiv 2502.12809.
"""

from __future__ import annotations

import math
import time
from typing import Any

import gymnasium as gym
import numpy as np

from nbody import initial_conditions as ic
from nbody.forces import collision_time
from nbody.simulate import Simulation
from nbody.state import System
from nbody.time_loop import Status
from rl_agents.envs.config import EnvConfig

#: Floor of the relative energy error (round-off), used in logarithms.
ENERGY_ERROR_FLOOR = 1e-16
#: Bound of every observation component (positions beyond 10^7 au are clipped).
OBSERVATION_BOUND = 1e6
PAPER_W0 = 3000.0
#: The three pairs of three bodies, as index arrays (first, second).
PAIRS = (np.array([0, 0, 1]), np.array([1, 2, 2]))
PAPER_W2 = 4.0


def paper_reward(energy_error: np.ndarray | float, parameter: np.ndarray | float, step_index: np.ndarray | int) -> np.ndarray:
    """The paper's reward ``-W0 log10(dE / 1e-10) / (|log10 dE|^3 k) + W2 / |log10 mu|``, 0 for ``k = 0`` (of one
    step, or of many as arrays).

    Parameters
    ----------
    energy_error
        Relative energy error after the step (floored at 1e-16).
    parameter
        The step parameter ``mu`` chosen.
    step_index
        ``k``, the number of steps taken before this one.
    """
    error = np.maximum(energy_error, ENERGY_ERROR_FLOOR)
    log_error = np.log10(error)
    k = np.maximum(step_index, 1)
    reward = -PAPER_W0 * np.log10(error / 1e-10) / (np.abs(log_error) ** 3 * k) + PAPER_W2 / np.abs(np.log10(parameter))
    return np.where(np.asarray(step_index) == 0, 0.0, reward)


def cost_reward(
    error_before: np.ndarray | float,
    error_after: np.ndarray | float,
    evals_before: np.ndarray | int,
    evals_after: np.ndarray | int,
    weight: float,
) -> np.ndarray:
    """``-(log10 dE_after - log10 dE_before) - weight (log10 C_after - log10 C_before)`` (of one step, or of many as
    arrays).

    Summed over an episode it telescopes to ``-(log10 dE_final + weight log10 C_final)`` plus a constant:
    the agent minimises a weighted sum of log energy error and log cost (force evaluations ``C``).
    """
    log_after = np.log10(np.maximum(error_after, ENERGY_ERROR_FLOOR))
    log_before = np.log10(np.maximum(error_before, ENERGY_ERROR_FLOOR))
    return -(log_after - log_before) - weight * (np.log10(evals_after) - np.log10(evals_before))


def continuous_parameter(action: float, log_range: tuple[float, float]) -> float:
    """The parameter a continuous action in [-1, 1] selects: log-linear over ``log_range`` (log10 of the lowest and
    highest parameter)."""
    fraction = (min(max(action, -1.0), 1.0) + 1.0) / 2.0
    low, high = log_range
    return float(10.0 ** (low + fraction * (high - low)))


def three_body_observations(kind: str, x: np.ndarray, v: np.ndarray, t_coll: np.ndarray, error: np.ndarray) -> np.ndarray:
    """The observations ``(B, 13)`` (``kind`` ``paper``: positions / 10 and velocities in the plane, ``-log10 dE``)
    or ``(B, 8)`` (``invariant``: :func:`pair_features`, ``log10 dE``) of ``B`` states ``(B, 3, 3)`` with their
    collision times and relative energy errors (float32, NaN as 0, clipped to the bound)."""
    log_error = np.where(np.isfinite(error), np.log10(np.clip(error, ENERGY_ERROR_FLOOR, 1e3)), 3.0)
    if kind == "paper":
        batch = x.shape[0]
        values = np.column_stack([x[:, :, :2].reshape(batch, -1) / 10.0, v[:, :, :2].reshape(batch, -1), -log_error])
    else:
        values = np.column_stack([pair_features(x, v, t_coll), log_error])
    return np.clip(np.nan_to_num(values, nan=0.0), -OBSERVATION_BOUND, OBSERVATION_BOUND).astype(np.float32)


def pair_features(x: np.ndarray, v: np.ndarray, t_coll: np.ndarray | float) -> np.ndarray:
    """log10 of the three pair distances, the three relative speeds and the collision time (clipped to
    [1e-12, 1e12]), for one state ``(3, 3)`` or a batch ``(B, 3, 3)``: invariant under rotations and translations."""
    first, second = PAIRS
    separations = np.sqrt(((x[..., first, :] - x[..., second, :]) ** 2).sum(axis=-1))
    speeds = np.sqrt(((v[..., first, :] - v[..., second, :]) ** 2).sum(axis=-1))
    return np.log10(np.clip(np.concatenate([separations, speeds, np.asarray(t_coll)[..., None]], axis=-1), 1e-12, 1e12))


def invariant_features(masses: np.ndarray, x: np.ndarray, v: np.ndarray, eps2: float) -> np.ndarray:
    """:func:`pair_features` of one state, its collision time computed here."""
    return pair_features(x, v, collision_time(masses, x, v, eps2))


def draw_system(family: str, rng: np.random.Generator) -> System:
    """Initial conditions of one episode."""
    if family == "paper":
        return ic.saz_ulibarrena_2025(rng)
    if family in ("random", "random_3d"):
        return ic.random_three_body(rng, planar=family == "random")
    if family == "hierarchical":
        return ic.hierarchical_triple(rng)
    return {"figure_eight": ic.figure_eight, "pythagorean": ic.pythagorean, "lagrange": ic.lagrange}[family]()


class ThreeBodyEnv(gym.Env):
    """Choose the time-step parameter of a three-body integration, one interval at a time.

    Parameters
    ----------
    config
        An :class:`EnvConfig`; or pass its fields as keyword arguments
        (``gym.make("adaptsim/ThreeBody-v0", observation="paper")``).
    """

    metadata = {"render_modes": []}

    def __init__(self, config: EnvConfig | None = None, **options: Any) -> None:
        super().__init__()
        if config is not None and options:
            raise TypeError("give either config or keyword options, not both")
        self.config = config if config is not None else EnvConfig(**options)
        self.parameters = np.asarray(self.config.parameters, dtype=float)
        self._log_range = (math.log10(self.parameters[0]), math.log10(self.parameters[-1]))
        if self.config.action == "discrete":
            self.action_space: gym.Space = gym.spaces.Discrete(len(self.parameters))
        else:
            self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        size = self.config.observation_size
        self.observation_space = gym.spaces.Box(-OBSERVATION_BOUND, OBSERVATION_BOUND, shape=(size,), dtype=np.float32)
        self.simulation: Simulation | None = None
        self.step_index = 0
        #: Wall time of the integration in the last step and since the last reset (kept out of ``info``,
        #: which must be deterministic).
        self.last_wall_time = 0.0
        self.episode_wall_time = 0.0

    def parameter_of(self, action: Any) -> float:
        """The integrator parameter an action selects."""
        if self.config.action == "discrete":
            return float(self.parameters[int(action)])
        return continuous_parameter(float(np.asarray(action).reshape(-1)[0]), self._log_range)

    def _make_simulation(self, system: System) -> Simulation:
        return Simulation(system, self.config.settings(float(self.parameters[0])))

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Draw new initial conditions (or use ``options["system"]``) and return the first observation."""
        super().reset(seed=seed)
        system = (options or {}).get("system") or draw_system(self.config.initial_conditions, self.np_random)
        self.simulation = self._make_simulation(system)
        self._energy_error = 0.0
        self.step_index = 0
        self.last_wall_time = 0.0
        self.episode_wall_time = 0.0
        return self._observation(), self._info(0, float("nan"))

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Integrate one interval with the parameter the action selects."""
        simulation = self._running()
        parameter = self.parameter_of(action)
        error_before = self._energy_error
        evals_before = simulation.n_force_evals
        started = time.perf_counter()
        simulation.advance(simulation.t + self.config.interval, parameter, max_steps=self.config.max_integrator_steps)
        self.last_wall_time = time.perf_counter() - started
        self.episode_wall_time += self.last_wall_time
        error = simulation.energy_error()
        if not math.isfinite(error):
            error = math.inf
        self._energy_error = error
        if self.config.reward == "paper":
            reward = float(paper_reward(error, parameter, self.step_index))
        else:
            reward = float(cost_reward(error_before, error, evals_before, simulation.n_force_evals, self.config.cost_weight))
        self.step_index += 1
        terminated = bool(error > self.config.max_energy_error or simulation.status != Status.COMPLETED)
        truncated = bool(self.step_index >= self.config.episode_steps and not terminated)
        if not math.isfinite(reward):
            reward = -100.0
        info = self._info(simulation.n_force_evals - evals_before, parameter)
        return self._observation(), reward, terminated, truncated, info

    def _running(self) -> Simulation:
        """The simulation of the current episode."""
        if self.simulation is None:
            raise RuntimeError("call reset() before step()")
        return self.simulation

    def _info(self, evals: int, parameter: float) -> dict[str, Any]:
        simulation = self._running()
        return {
            "energy_error": self._energy_error,
            "force_evals": evals,
            "total_force_evals": simulation.n_force_evals,
            "parameter": parameter,
            "time": simulation.t,
            "status": simulation.status,
        }

    def _observation(self) -> np.ndarray:
        simulation = self._running()
        x, v = simulation.x, simulation.v
        t_coll = collision_time(simulation.masses, x, v, simulation.eps2)
        return three_body_observations(self.config.observation, x[None], v[None], np.array([t_coll]), np.array([self._energy_error]))[0]
