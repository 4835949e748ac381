"""The ``nbody`` case kind: integrate a few-body system from a YAML file, write results and plots."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from adaptsim.cases import CaseModel, KindSpec, PositiveFloat, PositiveTime, RunContext, StrictModel
from adaptsim.errors import CaseError

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
            except CaseError as error:
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

    name: Literal["hermite", "leapfrog", "rk", "ias15"] = Field("hermite", description="Integrator.")
    eta: PositiveFloat | None = Field(None, description="Hermite / adaptive leapfrog step parameter.")
    dt: PositiveTime | None = Field(None, description="Fixed step (any integrator).")
    tol: PositiveFloat | None = Field(None, description="Tolerance of `rk` and `ias15`.")
    criterion: Literal["aarseth", "collision"] = Field("aarseth", description="Hermite step criterion.")

    @model_validator(mode="after")
    def _check_parameter(self) -> IntegratorSpec:
        from nbody.integrators import resolve

        try:
            resolve(self.name, eta=self.eta, dt=self.dt, tol=self.tol, criterion=self.criterion)
        except CaseError as error:
            raise ValueError(error.message) from None
        return self

    @property
    def label(self) -> str:
        """Short name with the parameter, e.g. ``hermite eta=0.02``."""
        from nbody.integrators import resolve

        stepper = resolve(self.name, eta=self.eta, dt=self.dt, tol=self.tol, criterion=self.criterion)
        suffix = " (collision)" if self.name == "hermite" and self.criterion == "collision" and stepper.parameter_name == "eta" else ""
        return f"{self.name} {stepper.parameter_name}={stepper.parameter:g}{suffix}"


class Events(StrictModel):
    """Events that end the run early."""

    stop_on_escape: bool = Field(False, description="Stop when a body escapes.")
    escape_radius: PositiveFloat | None = Field(None, description="Escape distance (default: 10x the initial size).")
    close_encounter: float = Field(0.0, ge=0.0, description="Stop when two bodies are closer than this (0: off).")


class NBodyCase(CaseModel):
    """Integrate a few-body system, record snapshots, plot orbits and energy error."""

    kind: Literal["nbody"]
    initial_conditions: InitialConditions = InitialConditions()
    integrator: IntegratorSpec = IntegratorSpec()
    t_end: PositiveTime = Field(description="Final time (N-body units).")
    snapshots: int | None = Field(2000, ge=2, description="Evenly spaced snapshots; null records every step.")
    events: Events = Events()
    compare: list[IntegratorSpec] = Field(default_factory=list, description="More integrators to run on the same problem, for the energy-error plot.")


KIND = KindSpec(
    name="nbody",
    model=NBodyCase,
    runner="nbody.case:run",
    summary="Integrate a few-body system (figure-eight, Pythagorean, Lagrange, random or custom).",
    smoke_overrides=("t_end=1.0", "snapshots=20"),
    citations="nbody.case:citations",
)


def integrator_citations(name: str, criterion: str = "aarseth") -> list[str]:
    """Reference keys of an integrator (and of the Hermite step criterion)."""
    keys = {"hermite": ["hermite"], "leapfrog": ["leapfrog"], "rk": ["dormand_prince"], "ias15": ["ias15"]}[name]
    return keys + (["collision_time"] if name == "hermite" and criterion == "collision" else [])


def citations(case: NBodyCase) -> list[str]:
    """Reference keys of the integrators and the named initial conditions of a case."""
    keys = [key for spec in [case.integrator, *case.compare] for key in integrator_citations(spec.name, spec.criterion)]
    problem = case.initial_conditions.problem
    return keys + ([problem] if problem in ("figure_eight", "pythagorean", "lagrange") else [])


def _integrate(case: NBodyCase, spec: IntegratorSpec, system, progress: bool):
    from nbody import simulate

    record_times = None if case.snapshots is None else np.linspace(0.0, case.t_end, case.snapshots)
    return simulate.integrate(
        system,
        case.t_end,
        spec.name,
        eta=spec.eta,
        dt=spec.dt,
        tol=spec.tol,
        criterion=spec.criterion,
        record_times=record_times,
        stop_on_escape=case.events.stop_on_escape,
        escape_radius=case.events.escape_radius,
        close_encounter=case.events.close_encounter,
        progress=progress,
    )


def _summary(run) -> dict:
    return {
        "n_steps": run.n_steps,
        "n_force_evals": run.n_force_evals,
        "final_energy_error": float(run.energy_error[-1]),
        "max_energy_error": float(run.energy_error.max()),
        "final_angular_momentum_error": float(run.angular_momentum_error[-1]),
        "escaped": run.escaped,
        "status": run.status,
        "t_final": float(run.times[-1]),
        "wall_time_s": run.wall_time,
        "integrator": run.integrator,
        "parameter_name": run.parameter_name,
        "parameter": run.parameter,
    }


def run(case: NBodyCase, ctx: RunContext) -> None:
    """Run the case: HDF5 result, ``orbits.png`` and ``energy_error.png``."""
    from adaptsim.progress import log
    from nbody.diagnostics import plot_energy_error, plot_orbits

    system = case.initial_conditions.build(np.random.default_rng(case.seed))
    main = _integrate(case, case.integrator, system, progress=True)
    log(
        f"{case.integrator.label}: {main.status} at t = {main.times[-1]:.6g}, {main.n_steps} steps, "
        f"{main.n_force_evals} force evaluations, energy error {main.energy_error[-1]:.2e}"
    )
    others = []
    for spec in case.compare:
        other = _integrate(case, spec, system, progress=True)
        log(f"{spec.label}: {other.n_steps} steps, {other.n_force_evals} force evaluations, energy error {other.energy_error[-1]:.2e}")
        others.append(other)

    title = f"{case.initial_conditions.problem}: {case.integrator.label}"
    ctx.save_figure(plot_orbits(main, title=title), "orbits.png")
    figure = plot_energy_error([main, *others], [case.integrator.label, *(spec.label for spec in case.compare)])
    figure.axes[0].set_title(f"{case.initial_conditions.problem}: relative energy error")
    ctx.save_figure(figure, "energy_error.png")

    data = {
        "times": main.times,
        "positions": main.positions,
        "velocities": main.velocities,
        "energy_error": main.energy_error,
        "angular_momentum_error": main.angular_momentum_error,
        "masses": main.masses,
        "summary": {},
        "comparison": {spec.label.replace(" ", "_"): {"times": o.times, "energy_error": o.energy_error} for spec, o in zip(case.compare, others)},
    }
    attrs = {"summary": _summary(main)}
    for spec, other in zip(case.compare, others):
        attrs[f"comparison/{spec.label.replace(' ', '_')}"] = _summary(other)
    ctx.write_results(data, attrs=attrs)
