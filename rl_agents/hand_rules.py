"""Hand-written policies for the target-accuracy environment: the baselines a learned policy must beat.

- :class:`FixedChoice`: one (integrator, parameter) for the whole run.
- :class:`RuleA`: the regularised integrator while two bodies are close, IAS15 elsewhere.
- :class:`RuleB`: cheap IAS15; an interval whose energy jumps is redone with the regularised integrator.

A policy acts on many episodes at once, as :class:`~rl_agents.envs.target_vector.TargetAccuracyVectorEnv` runs them:
it is called with the observations ``(B, 11)`` and the infos (arrays of ``B``) of the last step, and returns ``B``
actions; ``reset(B)`` starts it on ``B`` new episodes. The rules read distances in the case's units: they need the
environment's ``absolute`` features (the evaluation runs every baseline so, whatever the agent sees).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rl_agents.envs.target_config import TargetConfig

#: Observation indices (see :mod:`rl_agents.envs.target`): log10 of the pair distances, of the last energy jump.
_DISTANCES = slice(3, 6)
_JUMP = 10
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
