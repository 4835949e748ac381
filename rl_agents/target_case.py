"""The ``rl_target_eval`` case kind: policies on the target-accuracy task against the baselines a user would pick
(a pydantic model; the runner is :mod:`rl_agents.target_eval_run`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from adaptsim.cases import CaseModel, KindSpec, PositiveFloat
from rl_agents.envs.target_config import TargetConfig
from rl_agents.hand_rules import RULE_A_CLOSE, RULE_A_FAR, RULE_B_CAREFUL, RULE_B_CHEAP


def _default_env() -> TargetConfig:
    return TargetConfig(episode_intervals=300)


class RLTargetEvalCase(CaseModel):
    """Judge an agent (or the baselines alone) on the target-accuracy task, per target, on held-out seeds."""

    kind: Literal["rl_target_eval"]
    env: TargetConfig = Field(default_factory=_default_env, description="The target-accuracy environment (300 intervals by default).")
    model: Path | None = Field(None, description="Agent to judge (.zip, read without unpickling anything); none: the baselines alone.")
    targets: list[PositiveFloat] = Field(
        default_factory=lambda: [1e-6, 1e-8, 1e-10, 1e-12], min_length=1, max_length=8, description="Targets eps to judge at."
    )
    calibration_seeds: int = Field(
        100, ge=1, le=100_000, description="Seeds 0 .. n-1 calibrate the fixed choice and tune the hand rules' thresholds."
    )
    seed_start: int = Field(10_000, ge=0, lt=2**31, description="First held-out seed.")
    n_seeds: int = Field(200, ge=2, le=100_000, description="Held-out seeds (one run each per policy and target).")
    rule_a_distances: list[PositiveFloat] = Field(
        default_factory=lambda: [1.0, 2.0, 4.0], min_length=1, max_length=16, description="Rule A's pair distances to tune over."
    )
    rule_b_jumps: list[PositiveFloat] = Field(
        default_factory=lambda: [1e-11, 1e-10, 1e-9], min_length=1, max_length=16, description="Rule B's energy jumps to tune over."
    )

    @field_validator("targets")
    @classmethod
    def _targets_below_one(cls, value: list[float]) -> list[float]:
        if any(eps > 1.0 for eps in value):
            raise ValueError("every target must be at most 1")
        return value

    @field_validator("model")
    @classmethod
    def _model_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(
                f"file {str(value)!r} does not exist" if not value.is_dir() else f"{str(value)!r} is a folder, not an agent file"
            )
        return value

    @model_validator(mode="after")
    def _check(self) -> RLTargetEvalCase:
        if self.seed_start < self.calibration_seeds:
            raise ValueError(f"seed_start {self.seed_start} overlaps the calibration seeds 0 .. {self.calibration_seeds - 1}")
        needed = [RULE_A_CLOSE, RULE_A_FAR, *([RULE_B_CHEAP, RULE_B_CAREFUL] if self.env.redo else [])]  # (rule B redoes)
        for integrator, value in needed:
            if not any(c.integrator == integrator and c.value == value for c in self.env.choices):
                raise ValueError(f"env.choices needs {integrator} {value:g} for the hand rules")
        if self.model is not None:  # (builds the environment: nbody and Numba)
            from rl_agents.envs.target import TargetAccuracyEnv
            from rl_agents.saved_agents import check_agent_fits

            check_agent_fits(self.model, TargetAccuracyEnv(self.env), "the target-accuracy environment")
        return self


TARGET_EVAL_KIND = KindSpec(
    name="rl_target_eval",
    model=RLTargetEvalCase,
    runner="rl_agents.target_eval_run:run",
    summary="Target-accuracy task: an agent against the calibrated fixed choices and the tuned hand rules, per target.",
    smoke_overrides=("calibration_seeds=4", "seed_start=100", "n_seeds=4", "env.episode_intervals=10", "rule_a_distances=[2]"),
    citations="rl_agents.target_case:citations",
)


def environment_citations(env: TargetConfig) -> list[str]:
    """Reference keys of the target-accuracy environment: its libraries and its integrators."""
    from nbody.integrators.table import integrator_citations

    integrators = sorted({choice.integrator for choice in env.choices})
    return ["gymnasium", "stable_baselines3", *[key for name in integrators for key in integrator_citations(name)]]


def citations(case: RLTargetEvalCase) -> list[str]:
    """Reference keys: the environment's libraries and its integrators."""
    return environment_citations(case.env)
