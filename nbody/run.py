"""The runner of the ``nbody`` kind: integrate the case's system with its integrators, write ``result.h5``,
``orbits.png`` and ``energy_error.png``."""

from __future__ import annotations

import warnings

import numpy as np

from adaptsim.cases import RunContext
from adaptsim.progress import log
from nbody import simulate
from nbody.case import IntegratorSpec, NBodyCase
from nbody.plots import plot_energy_error, plot_orbits


def _integrate(case: NBodyCase, spec: IntegratorSpec, system, progress: bool):
    """Integrate with one integrator; an early stop is logged as a warning (not only a status in the result)."""
    record_times: simulate.RecordTimes = "steps" if case.snapshots is None else np.linspace(0.0, case.t_end, case.snapshots)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", simulate.EarlyStopWarning)  # said below, in the run's own log
        warnings.simplefilter("ignore", simulate.EnergyErrorWarning)
        run = simulate.integrate(
            system,
            case.t_end,
            spec.settings(),
            record_times=record_times,
            stop_on_escape=case.events.stop_on_escape,
            escape_radius=case.events.escape_radius,
            close_encounter=case.events.close_encounter,
            radii=case.events.radii,
            on_collision=case.events.on_collision,
            progress=progress,
            energy_warning=case.energy_warning,
        )
    message = simulate.energy_warning_message(run, case.energy_warning)
    if message is not None:
        log(f"[bold yellow]warning:[/] {spec.label}: {message}")
    if run.status.failed:
        log(f"[bold yellow]warning:[/] {spec.label} STOPPED EARLY at t = {run.times[-1]:.6g} of {case.t_end:.6g}: {run.status.label}")
    for collision in run.collisions:
        i, j = collision.bodies
        what = f"merged into body {i} (energy change {collision.energy_change:.6g})" if collision.merged else "the run stops"
        log(f"{spec.label}: bodies {i} and {j} collide at t = {collision.time:.6g}: {what}")
    return run


def _tracks(run) -> np.ndarray:
    """Positions and velocities for the result file: a body merged into another follows it (``present`` says
    which exist); the latest merger first, so that a host merged later is filled in before it is followed."""
    out = []
    for states in (run.positions, run.velocities):
        states = states.copy()
        for collision in reversed([c for c in run.collisions if c.merged]):
            host, body = collision.bodies
            gone = np.isnan(states[:, body, 0])
            states[gone, body] = states[gone, host]
        out.append(states)
    return np.stack(out)


def _summary(run) -> dict:
    return {
        "n_steps": run.n_steps,
        "n_force_evals": run.n_force_evals,
        "final_energy_error": float(run.energy_error[-1]),
        "max_energy_error": float(run.energy_error.max()),
        "final_angular_momentum_error": float(run.angular_momentum_error[-1]),
        "escaped": run.escaped,
        "collisions": len(run.collisions),
        "status": run.status.label,
        "stopped_early": run.status.failed,
        "energy_error_exceeded": run.energy_exceeded,
        "t_final": float(run.times[-1]),
        "wall_time_s": run.wall_time,
        "integrator": run.integrator,
        "parameter_name": run.parameter_name,
        "parameter": run.parameter,
    }


def run(case: NBodyCase, ctx: RunContext) -> None:
    """Run the case: HDF5 result, ``orbits.png`` and ``energy_error.png``."""

    system = case.initial_conditions.build(np.random.default_rng(case.seed))
    main = _integrate(case, case.integrator, system, progress=True)
    log(
        f"{case.integrator.label}: {main.status} at t = {main.times[-1]:.6g}, {main.n_steps} steps, "
        f"{main.n_force_evals} force evaluations, energy error {main.energy_error[-1]:.2e}"
    )
    others = []
    for spec in case.compare:
        other = _integrate(case, spec, system, progress=True)
        log(
            f"{spec.label}: {other.status} at t = {other.times[-1]:.6g}, {other.n_steps} steps, "
            f"{other.n_force_evals} force evaluations, energy error {other.energy_error[-1]:.2e}"
        )
        others.append(other)

    title = f"{case.initial_conditions.problem}: {case.integrator.label}"
    ctx.save_figure(plot_orbits(main, title=title), "orbits.png")
    figure = plot_energy_error([main, *others], [case.integrator.label, *(spec.label for spec in case.compare)])
    figure.axes[0].set_title(f"{case.initial_conditions.problem}: relative energy error")
    ctx.save_figure(figure, "energy_error.png")

    positions, velocities = _tracks(main)
    data = {
        "times": main.times,
        "positions": positions,
        "velocities": velocities,
        "present": ~np.isnan(main.positions[:, :, 0]),
        "collisions": {
            "time": np.array([c.time for c in main.collisions]),
            "bodies": np.array([c.bodies for c in main.collisions], dtype=np.int64).reshape(-1, 2),
            "merged": np.array([c.merged for c in main.collisions], dtype=bool),
            "energy_change": np.array([c.energy_change for c in main.collisions]),
        },
        "energy_error": main.energy_error,
        "angular_momentum_error": main.angular_momentum_error,
        "masses": main.masses,
        "summary": {},
        "comparison": {
            spec.label.replace(" ", "_"): {"times": o.times, "energy_error": o.energy_error}
            for spec, o in zip(case.compare, others, strict=True)
        },
    }
    attrs = {"summary": _summary(main)}
    for spec, other in zip(case.compare, others, strict=True):
        attrs[f"comparison/{spec.label.replace(' ', '_')}"] = _summary(other)
    ctx.write_results(data, attrs=attrs)
