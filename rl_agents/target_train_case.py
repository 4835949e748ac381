"""The ``rl_target_train`` case kind: train an agent on the target-accuracy task in the native vector environment
(a pydantic model; the runner is :mod:`rl_agents.target_train_run`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from adaptsim.cases import KindSpec, PositiveFloat, StrictModel
from rl_agents.case import AgentTrainingCase, agent_citations
from rl_agents.envs.target_config import TargetConfig
from rl_agents.hand_rules import RepairRule
from rl_agents.target_case import environment_citations

#: The algorithms whose policy has an actor and a critic to kickstart.
ACTOR_CRITIC = ("A2C", "PPO", "TRPO")


def _default_env() -> TargetConfig:
    return TargetConfig(episode_intervals=300)


class TargetHeldOut(StrictModel):
    """Evaluation on held-out seeds during training, per target."""

    seed_start: int = Field(20_000, ge=0, lt=2**31, description="First held-out seed (training draws from the case seed's stream).")
    n_seeds: int = Field(64, ge=1, le=100_000, description="Held-out seeds, run at once in the vector environment.")
    targets: list[PositiveFloat] = Field(
        default_factory=lambda: [1e-8, 1e-10, 1e-12], min_length=1, max_length=8, description="Targets eps to measure success at."
    )
    every: int = Field(500_000, ge=1, description="Evaluate every this many environment steps.")


class Kickstart(StrictModel):
    """Behaviour cloning of the repair rule (:class:`rl_agents.hand_rules.RepairRule`) before training: the actor
    fitted to its actions, the critic to its returns (:mod:`rl_agents.kickstart`)."""

    steps: int = Field(0, ge=0, le=10**8, description="Environment steps of the repair rule to clone (0: start from scratch).")
    epochs: int = Field(10, ge=1, le=1000, description="Passes over the teacher's steps.")
    batch_size: int = Field(4096, ge=1, le=10**6, description="Steps per gradient step of the cloning.")


class RLTargetTrainCase(AgentTrainingCase):
    """Train an agent that picks the integrator and its parameter per interval to reach a target accuracy cheaply."""

    kind: Literal["rl_target_train"]
    env: TargetConfig = Field(default_factory=_default_env, description="The target-accuracy environment (300 intervals by default).")
    algorithm: str = Field("PPO", description="SB3 or sb3-contrib algorithm with discrete actions (see `rl_train`).")
    normalize_observations: bool = Field(
        True, description="Train on observations normalized by their running mean and variance; folded into the saved agent."
    )
    total_timesteps: int = Field(8_000_000, ge=1, le=10**10, description="Environment steps (intervals and redos) to train for.")
    checkpoint_every: int = Field(1_000_000, ge=1, description="Save the agent every this many steps; a re-run resumes from the last one.")
    n_envs: int = Field(64, ge=1, le=4096, description="Episodes advanced together (one compiled call per step of all of them).")
    evaluation: TargetHeldOut = TargetHeldOut()
    kickstart: Kickstart = Kickstart()

    @model_validator(mode="after")
    def _check_compatibility(self) -> RLTargetTrainCase:
        self.check_algorithm(True, self.env.observation_size)
        if any(eps > 1.0 for eps in self.evaluation.targets):
            raise ValueError("evaluation.targets must be at most 1")
        if self.kickstart.steps:
            if self.algorithm not in ACTOR_CRITIC:
                raise ValueError(f"kickstart fits an actor and a critic: algorithm must be one of {', '.join(ACTOR_CRITIC)}")
            RepairRule(self.env)  # (its ValueError says what the environment lacks)
        return self


TARGET_TRAIN_KIND = KindSpec(
    name="rl_target_train",
    model=RLTargetTrainCase,
    runner="rl_agents.target_train_run:run",
    summary="Train an agent that picks the integrator and its parameter per interval to reach a target accuracy cheaply.",
    smoke_overrides=(
        "total_timesteps=512",
        "n_envs=4",
        "env.episode_intervals=20",
        "hyperparameters.n_steps=64",
        "hyperparameters.batch_size=64",
        "evaluation.n_seeds=2",
        "evaluation.every=256",
        "checkpoint_every=256",
    ),
    citations="rl_agents.target_train_case:citations",
)


def citations(case: RLTargetTrainCase) -> list[str]:
    """Reference keys: the environment's libraries and integrators, and the agent."""
    return [*environment_citations(case.env), *agent_citations(case)]
