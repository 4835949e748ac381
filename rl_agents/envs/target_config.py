"""Configuration of the target-accuracy environment (:mod:`rl_agents.envs.target`): the accuracy the user needs, the
(integrator, parameter) choices the agent has, and the price of a force evaluation of each integrator."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from adaptsim.cases import PositiveFloat, StrictModel
from nbody.initial_conditions import YEAR
from nbody.integrators.settings import IntegratorSettings, settings_for
from nbody.integrators.stepper import natural_parameter
from nbody.integrators.table import CriterionName, IntegratorName
from rl_agents.envs.config import INITIAL_CONDITIONS_HELP, InitialConditionFamily

#: A weighted cost per interval (the reward's unit of cost).
ReferenceCost = Annotated[float, Field(gt=0.0, le=1e9)]

#: CPU time of one force evaluation relative to IAS15's, on the paper's three-body initial conditions, interval by
#: interval as the environment runs them (``python benchmarks/evaluation_cost.py --seeds 100 --repeat 5``,
#: 2026-12-07, after the step functions' views stopped calling Numba's reshape helper; two runs, the weights their
#: mean: IAS15 0.191 / 0.184 us, Hermite 0.178 / 0.175, leapfrog 0.084 / 0.079, rk 0.141 / 0.141, archain 0.243 /
#: 0.229). Force evaluations alone are not an honest cost across integrators (a leapfrog evaluation costs 0.44 of
#: IAS15's; on 2026-12-04, before the change, an archain evaluation cost 1.95x IAS15's).
EVALUATION_COST: dict[str, float] = {"hermite": 0.94, "leapfrog": 0.44, "rk": 0.75, "ias15": 1.0, "archain": 1.25}


class Choice(StrictModel):
    """One thing the agent may pick for an interval: an integrator and its parameter."""

    integrator: IntegratorName = Field(description="Integrator.")
    parameter: str | None = Field(None, description="`eta`, `tol` or `dt` (default: the integrator's own).")
    value: PositiveFloat = Field(description="The parameter's value.")
    criterion: CriterionName = Field("collision", description="Hermite step criterion.")

    @model_validator(mode="after")
    def _check(self) -> Choice:
        self.settings()  # an ArgumentError is a ValueError
        return self

    def settings(self) -> IntegratorSettings:
        """The integrator's settings object."""
        return settings_for(self.integrator, criterion=self.criterion, **{self.parameter_name: self.value})

    @property
    def parameter_name(self) -> str:
        """``eta``, ``tol`` or ``dt``."""
        return self.parameter or natural_parameter(self.integrator)

    @property
    def label(self) -> str:
        """E.g. ``ias15 tol=1e-09``."""
        return f"{self.integrator} {self.parameter_name}={self.value:g}"


def default_choices() -> list[Choice]:
    """IAS15 at three tolerances, the regularised integrator at two, Hermite (collision-time steps) at one."""
    return [
        Choice(integrator="ias15", value=1e-7),
        Choice(integrator="ias15", value=1e-9),
        Choice(integrator="ias15", value=1e-11),
        Choice(integrator="archain", value=1e-12),
        Choice(integrator="archain", value=1e-14),
        Choice(integrator="hermite", value=4e-3),
    ]


class TargetConfig(StrictModel):
    """Everything that defines a :class:`~rl_agents.envs.target.TargetAccuracyEnv`."""

    target: tuple[PositiveFloat, PositiveFloat] = Field(
        (1e-12, 1e-6),
        description="[low, high] of the relative energy error the run must end below, drawn log-uniformly per episode (low = high: fixed).",
    )
    choices: list[Choice] = Field(default_factory=default_choices, min_length=1, max_length=64, description="What an action picks.")
    redo: bool = Field(True, description="Actions may also redo the last interval with another choice (from the state before it).")
    repair: Choice | None = Field(
        None,
        description=(
            "A safety net: an interval after which the error exceeds the target, having jumped by more than a tenth of "
            "it, is redone at once by the environment with this choice (one of `choices`; the redo is paid for and "
            "counts as one), unless it was integrated with it. None: off."
        ),
    )
    success_reward: float = Field(
        2.0, ge=0.0, le=1e3, description="Reward for ending at or below the target (as much again lost for ending above it)."
    )
    cost_weight: float = Field(1.0, ge=0.0, le=1e3, description="Reward lost by a run that costs `reference_cost` per interval.")
    reference_cost: ReferenceCost | dict[InitialConditionFamily, ReferenceCost] = Field(
        45.0,
        description=(
            "Weighted cost per interval that the cost part of the reward is measured in (default: about IAS15 tol 1e-7 "
            "on the paper's systems), or one per family of a mixture (`{paper: 45, hierarchical: 62}`: families whose "
            "intervals cost differently weigh alike)."
        ),
    )
    evaluation_cost: dict[IntegratorName, PositiveFloat] = Field(
        default_factory=lambda: dict(EVALUATION_COST), description="CPU cost of a force evaluation of each integrator, relative to IAS15."
    )
    initial_conditions: InitialConditionFamily | list[InitialConditionFamily] = Field(
        "paper",
        min_length=1,
        description=INITIAL_CONDITIONS_HELP + " A list: each episode draws one of its families, uniformly (repeat one to weigh it more).",
    )
    features: Literal["absolute", "scaled"] = Field(
        "absolute",
        description=(
            "How the agent sees the bodies: `absolute` (log10 of distances, speeds and the collision time in the "
            "case's units) or `scaled` (the same in units of the system's own size, speed and crossing time, and the "
            "interval in crossing times: one more value; equal for two systems that differ by a change of units)."
        ),
    )
    interval: PositiveFloat = Field(0.1 * YEAR, le=1e6, description="Integration time per interval (N-body units; default 0.1 yr).")
    episode_intervals: int = Field(100, ge=1, le=100_000, description="Intervals of a run (redos do not count).")
    max_energy_error: PositiveFloat = Field(0.1, le=1e3, description="Relative energy error that ends an episode as failed.")
    max_integrator_steps: int = Field(2_000_000, ge=1, le=10**9, description="Integrator steps allowed in one interval.")

    @model_validator(mode="after")
    def _check(self) -> TargetConfig:
        low, high = self.target
        if not low <= high <= 1.0:
            raise ValueError(f"target must be [low, high] with low <= high <= 1, got [{low:g}, {high:g}]")
        missing = sorted({choice.integrator for choice in self.choices} - set(self.evaluation_cost))
        if missing:
            raise ValueError(f"evaluation_cost has no value for {', '.join(missing)}")
        if self.repair is not None and self.repair not in self.choices:
            raise ValueError(f"repair must be one of choices, got {self.repair.label}")
        if isinstance(self.reference_cost, dict):
            unpriced = sorted(set(self.families) - set(self.reference_cost))
            if unpriced:
                raise ValueError(f"reference_cost has no value for {', '.join(unpriced)}")
        return self

    @property
    def families(self) -> list[InitialConditionFamily]:
        """The initial-condition families episodes draw from (one, or a mixture)."""
        return [self.initial_conditions] if isinstance(self.initial_conditions, str) else list(self.initial_conditions)

    def family_reference_cost(self, family: InitialConditionFamily) -> float:
        """The reference cost per interval of an episode of ``family``."""
        return float(self.reference_cost[family] if isinstance(self.reference_cost, dict) else self.reference_cost)

    @property
    def repair_index(self) -> int | None:
        """The index of the repair choice in ``choices`` (None without a repair)."""
        return None if self.repair is None else self.choices.index(self.repair)

    @property
    def observation_size(self) -> int:
        """11 values (``absolute``), 12 (``scaled``: the interval in crossing times too)."""
        return 12 if self.features == "scaled" else 11

    @property
    def n_actions(self) -> int:
        """One action per choice for the next interval, and as many again for a redo of the last one."""
        return len(self.choices) * (2 if self.redo else 1)
