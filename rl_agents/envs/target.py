"""A Gymnasium environment with the user's question as its task: end a three-body run below a target energy error,
at the least cost, choosing the integrator and its parameter interval by interval.

An episode draws initial conditions and a target ``eps`` (log-uniform in :attr:`TargetConfig.target`). Each action
picks one of :attr:`TargetConfig.choices` (an integrator and its parameter) for the next interval of
``interval`` time units; with ``redo``, the actions ``n .. 2n-1`` instead integrate the *last* interval again from
the state before it with choice ``k - n`` (the state is restored exactly; the redone work is paid for). A change of
integrator starts it from the current state (its start-up force evaluations are paid for). The cost of an interval
is its force evaluations weighted by each integrator's CPU cost per evaluation (:data:`EVALUATION_COST`), so it is
deterministic and honest across integrators.

Reward (:func:`target_reward`), in two parts that telescope over an episode. Cost: each step
``-cost_weight * (C_after - C_before) / (reference_cost * episode_intervals)``, ``C`` the total weighted cost so far,
linear because the mean cost is what a user pays (a run at ``reference_cost`` per interval, about IAS15 tol 1e-7 on
the paper's initial conditions, costs ``cost_weight``; with a mixture of families, each episode's family's own
``reference_cost``, so that a family whose intervals cost more does not outweigh the others). Verdict: the change of the potential
``phi(dE) = -2 success_reward [dE > eps] - max(0, log10(dE / eps))`` of the relative energy error ``dE``, and
``+success_reward`` at the end. Summed over an episode: ``-cost_weight C_total / (reference_cost episode_intervals)``
plus ``+success_reward`` when the final ``dE <= eps``, else ``-success_reward - log10(dE / eps)``: the verdict on the
final error alone, but paid out as the error crosses the target (potential-based shaping, which leaves the best
policy unchanged; Ng, Harada & Russell 1999), so the interval that breaks the budget is the one that pays for it,
and a redo that repairs it earns it back. An episode that breaks down (``dE > max_energy_error``, a failed
integration, more redos than ``episode_intervals``) ends there, its ``dE`` counted as 1e3.

Observation (11 values): ``log10 eps - log10 dE`` (the margin left), ``log10 eps``, the fraction of the run left,
log10 of the three pair distances, of the three relative speeds and of the collision time (invariant under
rotations and translations), and log10 of the last interval's energy jump ``|E_after - E_before| / |E0|``.
With ``features="scaled"`` (12 values) the distances, speeds and collision time are in units of the system's own
size ``R = sum_{i<j} m_i m_j / |E0|``, speed ``V = sqrt(M / R)`` and crossing time ``T = R / V`` (G = 1), and
``log10(interval / T)`` follows them (:func:`scaled_features`): two systems that differ only by a change of units
(``x -> l x``, ``v -> v / sqrt(l)``, ``t -> l^1.5 t``, the interval too) look the same to the agent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from nbody.diagnostics import energy
from nbody.simulate import Simulation
from nbody.state import System
from nbody.time_loop import Status
from rl_agents.envs.target_config import Choice, TargetConfig
from rl_agents.envs.three_body import ENERGY_ERROR_FLOOR, OBSERVATION_BOUND, draw_system, invariant_features


def system_scales(masses: np.ndarray, initial_energy: np.ndarray | float) -> np.ndarray:
    """log10 of the own length ``R = sum_{i<j} m_i m_j / |E0|``, speed ``V = sqrt(M / R)`` and time ``T = R / V``
    (G = 1) of one system (``masses (N,)``, a number) or of ``B`` systems (``(B, N)``, ``(B,)``), as ``(..., 3)``."""
    masses = np.asarray(masses, dtype=float)
    total = masses.sum(axis=-1)
    pairs = 0.5 * (total**2 - (masses**2).sum(axis=-1))  # sum_{i<j} m_i m_j, for any number of bodies
    log_length = np.log10(pairs) - np.log10(np.maximum(np.abs(initial_energy), 1e-300))
    log_speed = 0.5 * (np.log10(total) - log_length)
    return np.stack([log_length, log_speed, log_length - log_speed], axis=-1)


def scaled_features(invariant: np.ndarray, scales: np.ndarray, interval: float) -> np.ndarray:
    """:func:`~rl_agents.envs.three_body.pair_features` ``(B, 7)`` in units of each system's :func:`system_scales`
    ``(B, 3)``, and ``log10(interval / T)``: ``(B, 8)``."""
    log_length, log_speed, log_time = scales[:, 0:1], scales[:, 1:2], scales[:, 2:3]
    return np.hstack(
        [invariant[:, :3] - log_length, invariant[:, 3:6] - log_speed, invariant[:, 6:7] - log_time, math.log10(interval) - log_time]
    )


def body_features(config: TargetConfig, invariant: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """What the agent sees of the bodies: ``invariant`` ``(B, 7)`` as it is, or :func:`scaled_features`."""
    return scaled_features(invariant, scales, config.interval) if config.features == "scaled" else invariant


#: An interval *breaks* the target when the error ends above it having jumped by more than this fraction of it.
BREAKING_JUMP = 0.1


def breaks_target(error: Any, jump: Any, target: Any) -> Any:
    """Whether an interval that ends at relative energy error ``error`` after a jump ``jump`` broke ``target``
    (numbers or arrays): what the environment's ``repair`` and the repair rule react to."""
    return (error > target) & (jump > BREAKING_JUMP * target)


def verdict_potential(error: np.ndarray | float, target: np.ndarray | float, config: TargetConfig) -> np.ndarray:
    """``-2 success_reward [dE > eps] - max(0, log10(dE / eps))``, ``dE`` floored at round-off and 1e3 where not finite."""
    error = np.asarray(error, dtype=float)
    error = np.where(np.isfinite(error), np.maximum(error, ENERGY_ERROR_FLOOR), 1e3)
    decades = np.log10(error / target)
    return -2.0 * config.success_reward * (decades > 0.0) - np.maximum(decades, 0.0)


def target_reward(
    cost_before: np.ndarray | float,
    cost_after: np.ndarray | float,
    error_before: np.ndarray | float,
    error_after: np.ndarray | float,
    ended: np.ndarray | bool,
    target: np.ndarray | float,
    reference_cost: np.ndarray | float,
    config: TargetConfig,
) -> np.ndarray:
    """The reward of one step (of one episode, or of many as arrays): the cost of the step in units of the episode's
    ``reference_cost`` per interval (:meth:`TargetConfig.family_reference_cost`), the change of
    :func:`verdict_potential`, and ``success_reward`` when the episode ends."""
    scale = np.asarray(reference_cost) * config.episode_intervals
    reward = -config.cost_weight * (np.asarray(cost_after) - cost_before) / scale
    reward = reward + verdict_potential(error_after, target, config) - verdict_potential(error_before, target, config)
    return reward + np.where(ended, config.success_reward, 0.0)


def draw_episode(config: TargetConfig, rng: np.random.Generator, options: dict[str, Any]) -> tuple[System, float]:
    """An episode's initial conditions (``options["system"]``, or drawn from the family, or from one of a mixture's
    families drawn uniformly first) and the reference cost of its family (a given system's: ``options["family"]``'s,
    by default the first family's)."""
    families = config.families
    if options.get("system") is not None:
        return options["system"], config.family_reference_cost(options.get("family", families[0]))
    family = families[int(rng.integers(len(families)))] if len(families) > 1 else families[0]
    return draw_system(family, rng), config.family_reference_cost(family)


def target_observations(
    error: np.ndarray | float, target: np.ndarray | float, left: np.ndarray | float, invariant: np.ndarray, jump: np.ndarray | float
) -> np.ndarray:
    """The observations ``(B, 4 + F)`` of ``B`` episodes (float32, NaN as 0, clipped to the bound) from their energy
    errors, targets, fractions of the run left, :func:`body_features` ``(B, F)`` and last energy jumps (each of
    ``B`` values, or one for all)."""
    error, target, left, jump = (np.broadcast_to(np.asarray(a, dtype=float), invariant.shape[:1]) for a in (error, target, left, jump))
    log_error = np.log10(np.minimum(np.maximum(error, ENERGY_ERROR_FLOOR), 1e3))
    log_target = np.log10(target)
    log_jump = np.log10(np.minimum(np.maximum(jump, ENERGY_ERROR_FLOOR), 1e3))
    values = np.column_stack([log_target - log_error, log_target, left, invariant, log_jump])
    return np.clip(np.nan_to_num(values, nan=0.0), -OBSERVATION_BOUND, OBSERVATION_BOUND).astype(np.float32)


@dataclass
class _Saved:
    """The state before an interval, to redo it from."""

    x: np.ndarray
    v: np.ndarray
    t: float
    energy: float


class TargetAccuracyEnv(gym.Env):
    """Reach a target accuracy at the least cost, choosing the integrator and its parameter per interval.

    Parameters
    ----------
    config
        A :class:`TargetConfig`; or its fields as keyword arguments (``gym.make("adaptsim/ThreeBodyTarget-v0", redo=False)``).
    """

    metadata = {"render_modes": []}

    def __init__(self, config: TargetConfig | None = None, **options: Any) -> None:
        super().__init__()
        if config is not None and options:
            raise TypeError("give either config or keyword options, not both")
        self.config = config if config is not None else TargetConfig(**options)
        self.choices: list[Choice] = list(self.config.choices)
        self._settings = [choice.settings() for choice in self.choices]
        self.action_space = gym.spaces.Discrete(self.config.n_actions)
        size = self.config.observation_size
        self.observation_space = gym.spaces.Box(-OBSERVATION_BOUND, OBSERVATION_BOUND, shape=(size,), dtype=np.float32)
        self.simulation: Simulation | None = None
        self.target = 1.0
        self.choice = 0
        self.intervals = 0
        self.redos = 0
        self.cost = 0.0
        self._masses = np.zeros(0)
        self._softening = 0.0
        self._energy0 = 1.0
        self._scales = np.zeros(3)  # log10 of the system's own length, speed and time
        self._energy = 1.0  # of the current state
        self._reference_cost = 1.0  # of the episode's family
        self._jump = 0.0
        self._saved: _Saved | None = None

    # --- the integration -------------------------------------------------------------------------------------------

    def _start(self, choice: int, x: np.ndarray, v: np.ndarray, t: float) -> None:
        """Start integrator ``choice`` from ``(x, v)`` at time ``t``, paying its start-up evaluations."""
        spec = self.choices[choice]
        simulation = Simulation(System(self._masses, x, v, self._softening), self._settings[choice])
        simulation.t = t
        self.cost += simulation.n_force_evals * self.config.evaluation_cost[spec.integrator]
        self.simulation = simulation
        self.choice = choice

    def _same_integrator(self, choice: int) -> bool:
        current, wanted = self.choices[self.choice], self.choices[choice]
        return (current.integrator, current.parameter_name, current.criterion) == (
            wanted.integrator,
            wanted.parameter_name,
            wanted.criterion,
        )

    def _integrate(self, choice: int) -> None:
        """One interval with ``choice``: the integrator carries on, or the new one starts from the current state."""
        simulation = self._running()
        if not self._same_integrator(choice):
            self._start(choice, simulation.x, simulation.v, simulation.t)
            simulation = self._running()
        self.choice = choice
        spec = self.choices[choice]
        evals_before = simulation.n_force_evals
        simulation.advance(simulation.t + self.config.interval, spec.value, max_steps=self.config.max_integrator_steps)
        self.cost += (simulation.n_force_evals - evals_before) * self.config.evaluation_cost[spec.integrator]

    def energy_error(self) -> float:
        """Relative energy error against the episode's initial energy (the integrators restart, the reference does not)."""
        value = abs(self._energy - self._energy0) / abs(self._energy0)
        return value if math.isfinite(value) else math.inf

    # --- Gymnasium ---------------------------------------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """New initial conditions (or ``options["system"]``) and a new target (or ``options["target"]``)."""
        super().reset(seed=seed)
        options = options or {}
        system, self._reference_cost = draw_episode(self.config, self.np_random, options)
        low, high = self.config.target
        self.target = float(options.get("target") or 10.0 ** self.np_random.uniform(math.log10(low), math.log10(high)))
        self._masses, self._softening = system.masses.copy(), system.softening
        self._energy0 = self._energy = float(energy(system.masses, system.positions, system.velocities, system.softening))
        self._scales = system_scales(self._masses, self._energy0)
        self.cost = 0.0
        self.intervals = 0
        self.redos = 0
        self._jump = 0.0
        self._saved = None
        self._start(0, system.positions, system.velocities, 0.0)
        return self._observation(), self._info(None)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Integrate the next interval with the chosen choice, or redo the last one with another."""
        simulation = self._running()
        action = int(action)
        n_choices = len(self.choices)
        redo = action >= n_choices
        choice = action - n_choices if redo else action
        cost_before, error_before = self.cost, self.energy_error()
        if redo and self._saved is not None:  # back to the state before the last interval
            energy_before = self._back_to_saved(choice)
        else:
            energy_before = self._energy
            self._saved = _Saved(simulation.x.copy(), simulation.v.copy(), simulation.t, energy_before)
            self.intervals += 1  # (a redo before any interval is a first interval)
        self._integrate(choice)
        error = self._measure(energy_before)
        repair = self.config.repair_index
        if repair is not None and choice != repair and breaks_target(error, self._jump, self.target):
            self._back_to_saved(repair)
            self._integrate(repair)
            error = self._measure(energy_before)
        simulation = self._running()
        terminated = bool(error > self.config.max_energy_error or simulation.status != Status.COMPLETED)
        truncated = bool(self.intervals >= self.config.episode_intervals and not terminated)
        ended = terminated or truncated
        reward = target_reward(cost_before, self.cost, error_before, error, ended, self.target, self._reference_cost, self.config)
        return self._observation(), float(reward), terminated, truncated, self._info(error if ended else None, redo=redo)

    def _back_to_saved(self, choice: int) -> float:
        """A redo: integrator ``choice`` started from the state before the last interval; returns that state's energy."""
        saved = self._saved
        assert saved is not None
        self._start(choice, saved.x, saved.v, saved.t)
        self.redos += 1
        return saved.energy

    def _measure(self, energy_before: float) -> float:
        """The energy and the jump after an interval that started at ``energy_before``; the error (inf after more
        redos than intervals: redoing for ever is not a way to finish)."""
        simulation = self._running()
        self._energy = float(energy(self._masses, simulation.x, simulation.v, self._softening))
        self._jump = abs(self._energy - energy_before) / abs(self._energy0)
        return math.inf if self.redos > self.config.episode_intervals else self.energy_error()

    def _running(self) -> Simulation:
        if self.simulation is None:
            raise RuntimeError("call reset() before step()")
        return self.simulation

    def _info(self, final_error: float | None, redo: bool = False) -> dict[str, Any]:
        simulation = self._running()
        info: dict[str, Any] = {
            "energy_error": self.energy_error(),
            "target": self.target,
            "cost": self.cost,
            "choice": self.choices[self.choice].label,
            "redo": redo,
            "intervals": self.intervals,
            "time": simulation.t,
            "status": simulation.status,
        }
        if final_error is not None:
            info["met"] = bool(final_error <= self.target)
        return info

    def _observation(self) -> np.ndarray:
        simulation = self._running()
        invariant = invariant_features(self._masses, simulation.x, simulation.v, self._softening**2)
        bodies = body_features(self.config, invariant[None], self._scales[None])
        left = 1.0 - self.intervals / self.config.episode_intervals
        return target_observations(self.energy_error(), self.target, left, bodies, self._jump)[0]
