"""Configuration of the three-body environment (a pydantic model, shared with the YAML cases)."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from adaptsim.cases import PositiveFloat, StrictModel
from nbody.initial_conditions import YEAR
from nbody.integrators.settings import IntegratorSettings, settings_for
from nbody.integrators.stepper import natural_parameter
from nbody.integrators.table import CriterionName, IntegratorName

InitialConditionFamily = Literal["paper", "random", "random_3d", "hierarchical", "figure_eight", "pythagorean", "lagrange"]
INITIAL_CONDITIONS_HELP = (
    "Family drawn at each reset: `paper` (Saz Ulibarrena & Portegies Zwart 2025), `random` (planar, unit disk, virial "
    "ratio 0.5), `random_3d` (the same in the unit ball), `hierarchical` (a binary of axis 1-2 and a third body at "
    "15-25, random orientations), or one fixed system (`figure_eight`, `pythagorean`, `lagrange`)."
)


def paper_parameters() -> list[float]:
    """The paper's 10 values of ``mu``, log-spaced in [1e-4, 1e-1]."""
    return [float(value) for value in np.logspace(-4.0, -1.0, 10)]


class EnvConfig(StrictModel):
    """Everything that defines a :class:`~rl_agents.envs.three_body.ThreeBodyEnv`.

    The defaults are this suite's configuration: Hermite with the collision-time criterion and the
    paper's 10 values of ``mu``, the paper's initial conditions, the invariant observation and the
    cost-aware reward. ``observation="paper", reward="paper"`` reproduces Saz Ulibarrena & Portegies
    Zwart (2025).
    """

    integrator: IntegratorName = Field("hermite", description="Integrator driven by the agent.")
    criterion: CriterionName = Field("collision", description="Hermite step criterion (the paper: collision).")
    parameter: Literal["eta", "tol", "dt"] | None = Field(
        None,
        description="What the actions set: the step parameter (default: eta for hermite/leapfrog, tol for rk/ias15) or a fixed step `dt`.",
    )
    parameters: list[PositiveFloat] = Field(
        default_factory=paper_parameters,
        min_length=1,
        max_length=256,
        description="Values of the integrator parameter the actions select.",
    )
    action: Literal["discrete", "continuous"] = Field(
        "discrete", description="Discrete index into `parameters`, or a Box in [-1, 1] mapped to log10 of their range."
    )
    observation: Literal["paper", "invariant"] = Field(
        "invariant",
        description="`paper`: positions/10, velocities, -log10 dE (13 values); `invariant`: log10 pair distances and speeds, log10 collision time, log10 dE (8 values).",
    )
    reward: Literal["paper", "cost"] = Field(
        "cost",
        description="`paper`: the paper's formula; `cost`: -(change of log10 dE) - cost_weight * (change of log10 cumulative force evaluations).",
    )
    cost_weight: float = Field(2.0, ge=0.0, description="Weight of log10 cost against log10 energy error in the `cost` reward.")
    initial_conditions: InitialConditionFamily = Field("paper", description=INITIAL_CONDITIONS_HELP)
    interval: PositiveFloat = Field(0.1 * YEAR, le=1e6, description="Integration time per environment step (N-body units; default 0.1 yr).")
    episode_steps: int = Field(100, ge=1, le=1_000_000, description="Steps before truncation.")
    max_energy_error: PositiveFloat = Field(0.1, description="Relative energy error that ends an episode.")
    max_integrator_steps: int = Field(2_000_000, ge=1, le=10**9, description="Integrator steps allowed in one environment step.")

    @model_validator(mode="after")
    def _check(self) -> EnvConfig:
        if len(set(self.parameters)) != len(self.parameters):
            raise ValueError("parameters must be distinct")
        self.parameters = sorted(self.parameters)
        natural = natural_parameter(self.integrator)
        if self.parameter not in (None, "dt", natural):
            raise ValueError(f"integrator {self.integrator!r} takes {natural} or dt, not {self.parameter}")
        return self

    @property
    def observation_size(self) -> int:
        """Length of the observation vector (13 for ``paper``, 8 for ``invariant``)."""
        return 13 if self.observation == "paper" else 8

    @property
    def parameter_name(self) -> str:
        """``eta``, ``tol`` or ``dt``."""
        return self.parameter if self.parameter is not None else natural_parameter(self.integrator)

    def settings(self, value: float) -> IntegratorSettings:
        """The integrator's settings with its parameter at ``value`` (one of :attr:`parameters`)."""
        return settings_for(self.integrator, criterion=self.criterion, **{self.parameter_name: value})
