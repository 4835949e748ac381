"""The ``nbody`` case kind: the validated description of a few-body run (the runner is :func:`nbody.run.run`)."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from adaptsim.cases import CaseModel, KindSpec, PositiveFloat, StrictModel
from nbody.collisions import OnCollision
from nbody.errors import ArgumentError
from nbody.integrators.settings import IntegratorSettings, settings_for
from nbody.integrators.table import ENERGY_WARNING, PARAMETER_LIMITS, CriterionName, IntegratorName, integrator_citations

Problem = Literal["figure_eight", "pythagorean", "lagrange", "random", "custom"]
Vector3 = tuple[float, float, float]


class InitialConditions(StrictModel):
    """Which system to integrate: a named problem, a random draw (from the case seed), or explicit arrays."""

    problem: Problem = Field("figure_eight", description="Named problem, `random` or `custom`.")
    masses: list[PositiveFloat] | None = Field(None, description="`custom` only: the masses.")
    positions: list[Vector3] | None = Field(None, description="`custom` only: one [x, y, z] per body.")
    velocities: list[Vector3] | None = Field(None, description="`custom` only: one [vx, vy, vz] per body.")
    softening: float = Field(0.0, ge=0.0, description="Plummer softening length.")
    virial_ratio: float = Field(0.5, ge=0.0, lt=2.0, description="`random` only: 2K/|W|.")
    planar: bool = Field(False, description="`random` only: motion in the x-y plane.")

    @model_validator(mode="after")
    def _check_custom(self) -> InitialConditions:
        arrays = {"masses": self.masses, "positions": self.positions, "velocities": self.velocities}
        if self.problem == "custom":
            missing = [name for name, value in arrays.items() if value is None]
            if missing:
                raise ValueError(f"problem 'custom' needs {', '.join(missing)}")
            try:
                self.build(np.random.default_rng(0))
            except ArgumentError as error:
                raise ValueError(str(error)) from None
        else:
            given = [name for name, value in arrays.items() if value is not None]
            if given:
                raise ValueError(f"{', '.join(given)} only apply to problem 'custom', not {self.problem!r}")
        return self

    def build(self, rng: np.random.Generator):
        """The :class:`nbody.state.System` these conditions describe."""
        from nbody import initial_conditions as ic
        from nbody.state import System

        if self.problem == "custom":
            return System(np.array(self.masses), np.array(self.positions), np.array(self.velocities), self.softening)
        if self.problem == "random":
            system = ic.random_three_body(rng, virial_ratio=self.virial_ratio, planar=self.planar)
        else:
            system = {"figure_eight": ic.figure_eight, "pythagorean": ic.pythagorean, "lagrange": ic.lagrange}[self.problem]()
        system.softening = self.softening
        return system


class IntegratorSpec(StrictModel):
    """An integrator and its one accuracy parameter."""

    name: IntegratorName = Field("hermite", description="Integrator.")
    eta: PositiveFloat | None = Field(None, le=PARAMETER_LIMITS["eta"], description="Hermite / adaptive leapfrog step parameter.")
    dt: PositiveFloat | None = Field(None, le=PARAMETER_LIMITS["dt"], description="Fixed step (any integrator).")
    tol: PositiveFloat | None = Field(None, le=PARAMETER_LIMITS["tol"], description="Tolerance of `rk`, `ias15` and `archain`.")
    criterion: CriterionName = Field("aarseth", description="Hermite step criterion.")

    @model_validator(mode="after")
    def _check_parameter(self) -> IntegratorSpec:
        try:
            self.settings()
        except ArgumentError as error:
            raise ValueError(error.message) from None
        return self

    def settings(self) -> IntegratorSettings:
        """The integrator's settings object (:mod:`nbody.integrators.settings`), passed whole to the run."""
        return settings_for(self.name, eta=self.eta, dt=self.dt, tol=self.tol, criterion=self.criterion)

    @property
    def label(self) -> str:
        """Short name with the parameter, e.g. ``hermite eta=0.02``."""
        return self.settings().label


class Events(StrictModel):
    """Events that end the run early, and collisions."""

    stop_on_escape: bool = Field(False, description="Stop when a body escapes.")
    escape_radius: PositiveFloat | None = Field(None, description="Escape distance (default: 10x the initial size).")
    close_encounter: float = Field(0.0, ge=0.0, description="Stop when two bodies are closer than this (0: off).")
    radii: list[Annotated[float, Field(ge=0.0, allow_inf_nan=False)]] | None = Field(
        None, description="One radius per body: two bodies closer than the sum of their radii collide (null: point masses)."
    )
    on_collision: OnCollision = Field("stop", description="`stop` the run at a collision, or `merge` the pair (momentum-conserving).")


class NBodyCase(CaseModel):
    """Integrate a few-body system, record snapshots, plot orbits and energy error."""

    kind: Literal["nbody"]
    initial_conditions: InitialConditions = InitialConditions()
    integrator: IntegratorSpec = IntegratorSpec()
    t_end: PositiveFloat = Field(le=1e7, description="Final time (N-body units, at most 1e7: 1.6 million figure-eight periods).")
    snapshots: int | None = Field(2000, ge=2, le=10_000_000, description="Evenly spaced snapshots; null records every step.")
    events: Events = Events()
    compare: list[IntegratorSpec] = Field(
        default_factory=list, description="More integrators to run on the same problem, for the energy-error plot."
    )
    energy_warning: PositiveFloat = Field(
        ENERGY_WARNING,
        description="Warn (log, summary flag `energy_error_exceeded`, plot marker) when the relative energy error passes this.",
    )

    @model_validator(mode="after")
    def _check_radii(self) -> NBodyCase:
        conditions = self.initial_conditions
        n_bodies = len(conditions.masses or []) if conditions.problem == "custom" else 3
        if self.events.radii is not None and len(self.events.radii) != n_bodies:
            raise ValueError(f"events.radii: give one radius per body: {len(self.events.radii)} for {n_bodies} bodies")
        return self


KIND = KindSpec(
    name="nbody",
    model=NBodyCase,
    runner="nbody.run:run",
    summary="Integrate a few-body system (figure-eight, Pythagorean, Lagrange, random or custom).",
    smoke_overrides=("t_end=1.0", "snapshots=20"),
    citations="nbody.case:citations",
)


def citations(case: NBodyCase) -> list[str]:
    """Reference keys of the integrators and the named initial conditions of a case."""
    keys = [key for spec in [case.integrator, *case.compare] for key in integrator_citations(spec.name, spec.criterion)]
    problem = case.initial_conditions.problem
    return keys + ([problem] if problem in ("figure_eight", "pythagorean", "lagrange") else [])
