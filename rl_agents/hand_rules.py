"""Hand-written policies for the target-accuracy environment: the baselines a learned policy must beat.

- :class:`FixedChoice`: one (integrator, parameter) for the whole run.
- :class:`RuleA`: the regularised integrator while two bodies are close, IAS15 elsewhere.
- :class:`RuleB`: cheap IAS15; an interval whose energy jumps is redone with the regularised integrator.
- :class:`RepairRule`: a rule per target (rule B's cheap IAS15 at loose ones, rule A at tight ones); an interval
  that breaks the target is redone with the regularised integrator (the teacher of :mod:`rl_agents.kickstart`).

A policy acts on many episodes at once, as :class:`~rl_agents.envs.target_vector.TargetAccuracyVectorEnv` runs them:
it is called with the observations ``(B, 11)`` and the infos (arrays of ``B``) of the last step, and returns ``B``
actions; ``reset(B)`` starts it on ``B`` new episodes. The rules read distances in the case's units: they need the
environment's ``absolute`` features (the evaluation runs every baseline so, whatever the agent sees).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rl_agents.envs.target import BREAKING_JUMP
from rl_agents.envs.target_config import TargetConfig

#: Observation indices (see :mod:`rl_agents.envs.target`): the margin ``log10 eps - log10 dE``, ``log10 eps``,
#: log10 of the pair distances and of the last energy jump.
_MARGIN, _LOG_EPS = 0, 1
_DISTANCES = slice(3, 6)
_JUMP = 10
#: Slack on comparisons of ``log10 eps`` (single precision in the observation).
_LOG_SLACK = 1e-5
#: The choices the rules use by default: rule A's close and far, rule B's cheap and careful.
RULE_A_CLOSE, RULE_A_FAR = ("archain", 1e-14), ("ias15", 1e-9)
RULE_B_CHEAP, RULE_B_CAREFUL = ("ias15", 1e-7), ("archain", 1e-12)


def choice_index(config: TargetConfig, integrator: str, value: float) -> int:
    """The index of the choice ``(integrator, value)`` in ``config.choices`` (ValueError when it is not there)."""
    for index, choice in enumerate(config.choices):
        if choice.integrator == integrator and math.isclose(choice.value, value, rel_tol=1e-12):
            return index
    raise ValueError(f"the environment has no choice {integrator} {value:g}")


class FixedChoice:
    """The same choice every interval."""

    def __init__(self, config: TargetConfig, integrator: str, value: float) -> None:
        self.action = choice_index(config, integrator, value)
        self.label = f"{integrator} {value:g}"

    def reset(self, n_envs: int) -> None:
        """Nothing to forget."""

    def __call__(self, observations: np.ndarray, infos: dict[str, Any]) -> np.ndarray:
        return np.full(observations.shape[0], self.action)


def _check_layout(config: TargetConfig, rule: str) -> None:
    if config.features != "absolute":
        raise ValueError(f"{rule} reads the absolute observation layout: the environment needs features='absolute'")


class RuleA:
    """The regularised integrator (``close``) while a pair is within ``distance``, IAS15 (``far``) elsewhere."""

    def __init__(
        self,
        config: TargetConfig,
        distance: float = 2.0,
        close: tuple[str, float] = RULE_A_CLOSE,
        far: tuple[str, float] = RULE_A_FAR,
    ) -> None:
        _check_layout(config, "rule A")
        self.close, self.far = choice_index(config, *close), choice_index(config, *far)
        self.log_distance = math.log10(distance)
        self.label = f"rule A ({close[0]} {close[1]:g} within {distance:g}, else {far[0]} {far[1]:g})"

    def reset(self, n_envs: int) -> None:
        """Nothing to forget."""

    def __call__(self, observations: np.ndarray, infos: dict[str, Any]) -> np.ndarray:
        return np.where(observations[:, _DISTANCES].min(axis=1) < self.log_distance, self.close, self.far)


class RuleB:
    """``cheap`` IAS15; an interval whose energy jump exceeds ``jump`` is redone once with ``careful``."""

    def __init__(
        self,
        config: TargetConfig,
        jump: float = 1e-10,
        cheap: tuple[str, float] = RULE_B_CHEAP,
        careful: tuple[str, float] = RULE_B_CAREFUL,
    ) -> None:
        _check_layout(config, "rule B")
        if not config.redo:
            raise ValueError("rule B redoes intervals: the environment needs redo=True")
        self.cheap, self.careful = choice_index(config, *cheap), choice_index(config, *careful)
        self.redo_careful = len(config.choices) + self.careful
        self.log_jump = math.log10(jump)
        self.label = f"rule B ({cheap[0]} {cheap[1]:g}, redo with {careful[0]} {careful[1]:g} past a jump of {jump:g})"
        self._redone = np.zeros(0, dtype=bool)

    def reset(self, n_envs: int) -> None:
        """New episodes: nothing was redone."""
        self._redone = np.zeros(n_envs, dtype=bool)

    def __call__(self, observations: np.ndarray, infos: dict[str, Any]) -> np.ndarray:
        # (an episode that has just started has no interval to redo: intervals == 0 also clears the flag)
        redo = ~self._redone & (np.asarray(infos["intervals"]) > 0) & (observations[:, _JUMP] > self.log_jump)
        self._redone = redo
        return np.where(redo, self.redo_careful, self.cheap)


class RepairRule:
    """Rule B's ``cheap`` IAS15 at targets ``eps >= split``, rule A below; an interval after which the error exceeds
    ``eps``, having jumped by more than ``eps / 10`` itself, is redone once with archain (``loose_repair`` at
    ``eps >= 1e-10``, ``tight_repair`` below). It reads the target from the observation and acts on observations
    alone (the infos are not read).
    """

    def __init__(
        self,
        config: TargetConfig,
        split: float = 1e-9,
        distance: float = 2.0,
        loose_repair: tuple[str, float] = RULE_B_CAREFUL,
        tight_repair: tuple[str, float] = RULE_A_CLOSE,
    ) -> None:
        if not config.redo:
            raise ValueError("the repair rule redoes intervals: the environment needs redo=True")
        self.rule_a = RuleA(config, distance=distance)
        self.cheap = choice_index(config, *RULE_B_CHEAP)
        n_choices = len(config.choices)
        self.loose_repair = n_choices + choice_index(config, *loose_repair)
        self.tight_repair = n_choices + choice_index(config, *tight_repair)
        self.log_split = math.log10(split) - _LOG_SLACK
        self.log_repair_split = math.log10(1e-10) - _LOG_SLACK
        self.label = f"repair rule (IAS15 {RULE_B_CHEAP[1]:g} from {split:g}, rule A below; intervals that break eps redone)"
        self._redone = np.zeros(0, dtype=bool)

    def reset(self, n_envs: int) -> None:
        """New episodes: nothing was redone."""
        self._redone = np.zeros(n_envs, dtype=bool)

    def __call__(self, observations: np.ndarray, infos: dict[str, Any]) -> np.ndarray:
        log_eps = observations[:, _LOG_EPS]
        forward = np.where(log_eps >= self.log_split, self.cheap, self.rule_a(observations, infos))
        repair = np.where(log_eps >= self.log_repair_split, self.loose_repair, self.tight_repair)
        # (at the start of an episode dE = 0: the margin is large and nothing is redone)
        broken = (observations[:, _MARGIN] < 0.0) & (observations[:, _JUMP] > log_eps + math.log10(BREAKING_JUMP))  # breaks_target
        redo = ~self._redone & broken
        self._redone = redo
        return np.where(redo, repair, forward)
