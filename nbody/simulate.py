"""One system integrated from Python: :class:`Simulation` (state, integrator and counters between calls) and
:func:`integrate` (a run to ``t_end`` with snapshots and diagnostics, a :class:`Run`).

:class:`Simulation` holds the state between calls, so a caller can change the integrator's parameter from one
interval to the next (the reinforcement-learning environments do this). Both run the compiled time loop of
:mod:`nbody.time_loop`; :mod:`nbody.batch` runs many systems in parallel.
"""

from __future__ import annotations

import time as _time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from nbody.collisions import Collision, OnCollision, check_radii, merge
from nbody.diagnostics import angular_momentum, energy, relative_energy_error
from nbody.errors import ArgumentError
from nbody.integrators.dispatch import init
from nbody.integrators.settings import IntegratorSettings, as_settings
from nbody.integrators.stepper import Stepper, check_parameter
from nbody.integrators.table import ENERGY_WARNING
from nbody.state import System
from nbody.time_loop import BUFFER_FULL, CLOSE_ENCOUNTER, COLLISION, COMPLETED, ESCAPE, STATUSES, Status, compiled_loop, loop_radii


class EarlyStopWarning(RuntimeWarning):
    """:func:`integrate` stopped before ``t_end`` because the integrator broke down (step underflow, a
    non-finite state) or ran out of steps; the run's ``status`` says which."""


class EnergyErrorWarning(RuntimeWarning):
    """:func:`integrate` went through, but the relative energy error passed the run's ``energy_warning`` threshold
    (or is not finite): the result is not to be trusted."""


def energy_exceeded_at(run: Run, threshold: float) -> float | None:
    """The first snapshot time at which ``run``'s relative energy error passes ``threshold`` or is not finite (None: never)."""
    bad = ~np.isfinite(run.energy_error) | (run.energy_error > threshold)
    return float(run.times[int(np.argmax(bad))]) if bad.any() else None


def energy_warning_message(run: Run, threshold: float) -> str | None:
    """What to tell the user when ``run``'s relative energy error passes ``threshold`` (None: it does not)."""
    errors = run.energy_error
    when = energy_exceeded_at(run, threshold)
    if when is None:
        return None
    largest = float(np.nanmax(np.where(np.isfinite(errors), errors, np.inf)))
    cause = (
        "a fixed step cannot follow a close encounter: use archain (regularised) or ias15"
        if run.parameter_name == "dt"
        else f"tighten {run.parameter_name} or, for close encounters, use archain"
    )
    return f"{run.integrator}: relative energy error {largest:.3g} passed {threshold:g} at t = {when:.6g} ({cause})"


#: What :func:`integrate` stores: times, ``"steps"`` (every step) or None (the start and the end).
RecordTimes = np.ndarray | list[float] | Literal["steps"] | None
# the buffers of an advance that records nothing (of size 0: shared by every call)
_NO_TIMES = np.empty(0)
_NO_STATES = np.empty((0, 0, 3))


class Simulation:
    """A system being integrated: state, integrator work space, time and cost counters.

    Parameters
    ----------
    system
        Initial conditions (copied).
    integrator
        The integrator's settings (:mod:`nbody.integrators.settings`, e.g. ``IAS15Settings(tol=1e-9)``), or a name of
        :data:`~nbody.integrators.table.INTEGRATOR_NAMES`.
    radii
        One radius per body: two bodies closer than the sum of their radii collide (None: point masses).
    on_collision
        ``"stop"`` (status :attr:`Status.COLLISION`) or ``"merge"`` the pair into one body at their centre of
        mass with their momentum and go on; every collision is in :attr:`collisions`.
    **parameters
        With a name: the integrator's parameters (``eta``, ``tol``, ``dt``, ``criterion``;
        :func:`~nbody.integrators.settings.settings_for`).

    Attributes
    ----------
    settings
        The integrator's settings.
    ids
        The index in the initial system of each body integrated now (bodies leave by merging).
    """

    def __init__(
        self,
        system: System,
        integrator: str | IntegratorSettings = "hermite",
        *,
        radii: np.ndarray | list[float] | None = None,
        on_collision: OnCollision = "stop",
        **parameters: float | str | None,
    ) -> None:
        self.settings = as_settings(integrator, **parameters)
        self.stepper: Stepper = self.settings.stepper()
        self._advance = compiled_loop(self.stepper.code)
        if on_collision not in ("stop", "merge"):
            raise ArgumentError(f"must be 'stop' or 'merge', got {on_collision!r}", ("on_collision",))
        self.radii = check_radii(radii, system.n_bodies)
        self.on_collision = on_collision
        self.masses = system.masses.copy()
        self.x = np.ascontiguousarray(system.positions, dtype=np.float64).copy()
        self.v = np.ascontiguousarray(system.velocities, dtype=np.float64).copy()
        self.softening = system.softening
        self.eps2 = system.softening**2
        self.t = 0.0
        self.n_steps = 0
        self.n_force_evals = 0
        self.ids = np.arange(system.n_bodies)
        self.n_initial = system.n_bodies
        self._no_states = np.empty((0, self.n_initial, 3))
        self.collisions: list[Collision] = []
        self._start_integrator()
        self.energy0 = float(energy(self.masses, self.x, self.v, self.softening))
        self.angular_momentum0 = angular_momentum(self.masses, self.x, self.v)
        self.status = Status.COMPLETED
        self.event_body = -1

    def _start_integrator(self) -> None:
        self.work = np.zeros(self.stepper.work_size(self.masses.shape[0]))
        self.n_force_evals += int(init(self.stepper.module_code, self.x, self.v, self.masses, self.eps2, self.work))

    @property
    def merger_energy(self) -> float:
        """Total energy change by mergers so far (not an integration error)."""
        return sum(collision.energy_change for collision in self.collisions)

    def energy(self) -> float:
        """Current total energy."""
        return float(energy(self.masses, self.x, self.v, self.softening))

    def energy_error(self) -> float:
        """Current relative energy error ``|E - E0 - dE_mergers| / |E0|``."""
        return float(relative_energy_error(np.asarray(self.energy() - self.merger_energy), self.energy0))

    def _merge(self, pair: int) -> None:
        i, j = divmod(pair, self.masses.shape[0])
        self.masses, self.x, self.v, self.radii, energy_change, momentum_change = merge(
            self.masses, self.x, self.v, self.radii, i, j, self.softening
        )
        self.collisions.append(
            Collision(
                self.t,
                (int(self.ids[i]), int(self.ids[j])),
                True,
                energy_change,
                (float(momentum_change[0]), float(momentum_change[1]), float(momentum_change[2])),
            )
        )
        self.ids = np.delete(self.ids, j)
        self._start_integrator()

    def full(self, states: np.ndarray) -> np.ndarray:
        """States ``(..., N_now, 3)`` of the bodies integrated now, as ``(..., N, 3)`` of the initial system with
        NaN for the bodies merged into another."""
        if len(self.ids) == self.n_initial:
            return states
        out = np.full((*states.shape[:-2], self.n_initial, 3), np.nan)
        out[..., self.ids, :] = states
        return out

    def advance(
        self,
        t_target: float,
        parameter: float | None = None,
        *,
        escape_radius: float = 0.0,
        close_distance: float = 0.0,
        max_steps: int = 100_000_000,
        record: bool = False,
        on_progress: Callable[[float], None] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Integrate to ``t_target`` (or to an event), optionally with a new parameter value.

        Parameters
        ----------
        t_target
            Time to reach.
        parameter
            ``eta``, ``tol`` or ``dt`` for this interval (default: the one given at construction).
        escape_radius, close_distance
            Stop when a body escapes beyond ``escape_radius`` or two bodies come closer than
            ``close_distance`` (0 disables).
        max_steps
            Stop after this many steps.
        record
            Return the state after every step.
        on_progress
            Called with the current time whenever the compiled loop hands back control (at the
            latest every 2^20 recorded steps), e.g. to update a progress bar.

        Returns
        -------
        times, positions, velocities
            The states after each step if ``record``, else empty arrays; after a merger, the positions and
            velocities are those of the initial system's bodies, NaN for the merged ones (:meth:`full`).
        """
        value = self.stepper.parameter if parameter is None else check_parameter(self.stepper.parameter_name, float(parameter))
        chunks_t, chunks_x, chunks_v = [], [], []
        capacity = 1024 if record else 0
        remaining_steps = max_steps
        while True:
            n = self.masses.shape[0]
            if record:
                buf_t, buf_x, buf_v = np.empty(capacity), np.empty((capacity, n, 3)), np.empty((capacity, n, 3))
            else:  # empty buffers: nothing is recorded
                buf_t, buf_x, buf_v = _NO_TIMES, _NO_STATES, _NO_STATES
            t, steps, evals, status, body, n_rec = self._advance(
                self.x, self.v, self.masses, self.eps2, value, self.work, self.t, float(t_target),
                remaining_steps, float(escape_radius), float(close_distance), loop_radii(self.radii),
                buf_t, buf_x, buf_v, 0,
            )  # fmt: skip
            self.t = t
            self.n_steps += steps
            self.n_force_evals += evals
            remaining_steps -= steps
            if record:
                chunks_t.append(buf_t[:n_rec])
                chunks_x.append(self.full(buf_x[:n_rec]))
                chunks_v.append(self.full(buf_v[:n_rec]))
            if on_progress is not None:
                on_progress(t)
            if status == COLLISION and self.on_collision == "merge" and n > 1:
                self._merge(body)
                continue
            if status == COLLISION:
                i, j = divmod(body, n)
                self.collisions.append(Collision(self.t, (int(self.ids[i]), int(self.ids[j])), False))
            if status != BUFFER_FULL:
                break
            capacity = min(2 * capacity, 1 << 20)
        self.status = STATUSES[status]
        self.event_body = body
        if not record:
            return _NO_TIMES, self._no_states, self._no_states
        return np.concatenate(chunks_t), np.concatenate(chunks_x), np.concatenate(chunks_v)


@dataclass
class Run:
    """The result of :func:`integrate`.

    Attributes
    ----------
    times, positions, velocities
        Snapshots ``(n_t,)``, ``(n_t, N, 3)``, ``(n_t, N, 3)``; the first is the initial state.
    energy_error
        Relative energy error ``|E(t) - E0| / |E0|`` at each snapshot.
    angular_momentum_error
        ``|L(t) - L0| / |L0|`` (absolute when ``L0 = 0``) at each snapshot.
    n_steps, n_force_evals
        Steps taken and force evaluations (the cost measure), rejected trials included.
    escaped
        Index of the body that escaped, or -1.
    close_encounter
        The pair ``(i, j)`` that came closer than the threshold, or None.
    status
        How the run ended (:class:`Status`; ``str(status)`` is its label, e.g. ``"close encounter"``).
    collisions
        Every collision of bodies with radii (:class:`~nbody.collisions.Collision`); after a merger the
        merged-away body's positions and velocities are NaN and the energy error leaves out the merger's
        energy change.
    energy_exceeded_at
        The first snapshot time at which the relative energy error passed :func:`integrate`'s ``energy_warning``
        (which then warned), or None.
    """

    times: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray
    energy_error: np.ndarray
    angular_momentum_error: np.ndarray
    masses: np.ndarray
    softening: float
    integrator: str
    parameter_name: str
    parameter: float
    n_steps: int
    n_force_evals: int
    escaped: int
    close_encounter: tuple[int, int] | None
    status: Status
    wall_time: float
    energy0: float
    collisions: list[Collision] = field(default_factory=list)
    energy_exceeded_at: float | None = None

    @property
    def energy_exceeded(self) -> bool:
        """Whether the relative energy error passed :func:`integrate`'s ``energy_warning`` (which then warned)."""
        return self.energy_exceeded_at is not None

    @property
    def final(self) -> System:
        """The last state as a :class:`System` (the bodies left after mergers, with their merged masses)."""
        live = ~np.isnan(self.positions[-1, :, 0])
        masses = snapshot_masses(self.masses, self.collisions, self.positions[-1])
        return System(masses[live], self.positions[-1][live].copy(), self.velocities[-1][live].copy(), self.softening)


def _mergers_before(collisions: list[Collision], positions: np.ndarray) -> list[Collision]:
    """The mergers that happened before a snapshot ``(N, 3)``: those whose merged-away body is NaN in it."""
    return [collision for collision in collisions if collision.merged and np.isnan(positions[collision.bodies[1], 0])]


def snapshot_masses(masses: np.ndarray, collisions: list[Collision], positions: np.ndarray) -> np.ndarray:
    """The masses of a snapshot ``(N, 3)`` of a run with mergers: a merger counts once its body is NaN."""
    masses = masses.copy()
    for collision in _mergers_before(collisions, positions):
        i, j = collision.bodies
        masses[i] += masses[j]
        masses[j] = 0.0
    return masses


def _conserved(
    masses: np.ndarray, collisions: list[Collision], positions: np.ndarray, velocities: np.ndarray, softening: float
) -> tuple[np.ndarray, np.ndarray]:
    """Energy and angular momentum of each snapshot, less the changes by the mergers before it."""
    if not any(collision.merged for collision in collisions):
        return energy(masses, positions, velocities, softening), angular_momentum(masses, positions, velocities)
    energies = np.empty(positions.shape[0])
    momenta = np.empty((positions.shape[0], 3))
    for index, (x, v) in enumerate(zip(positions, velocities, strict=True)):
        live = ~np.isnan(x[:, 0])
        m = snapshot_masses(masses, collisions, x)[live]
        done = _mergers_before(collisions, x)
        energies[index] = energy(m, x[live], v[live], softening) - sum(c.energy_change for c in done)
        momenta[index] = angular_momentum(m, x[live], v[live]) - sum((np.array(c.angular_momentum_change) for c in done), np.zeros(3))
    return energies, momenta


def check_end_time(t_end: float) -> None:
    """An error unless ``t_end`` is a finite number > 0."""
    if not (isinstance(t_end, (int, float, np.floating)) and np.isfinite(t_end) and t_end > 0.0):
        raise ArgumentError(f"must be a finite number > 0, got {t_end!r}", ("t_end",))


def _check_times(t_end: float, record_times: RecordTimes) -> np.ndarray | None:
    """The record times as a sorted array (empty: the start and the end only), or None for every step."""
    check_end_time(t_end)
    if isinstance(record_times, str):
        if record_times != "steps":
            raise ArgumentError(f"must be times or 'steps', got {record_times!r}", ("record_times",))
        return None
    times = np.asarray([] if record_times is None else record_times, dtype=float)
    if times.size == 0:
        return times.reshape(0)
    times = np.unique(times)
    if not np.all(np.isfinite(times)) or times[0] < 0.0 or times[-1] > t_end:
        raise ArgumentError(f"must lie in [0, t_end = {t_end}]", ("record_times",))
    return times


def default_escape_radius(system: System) -> float:
    """Ten times the largest initial distance of a body from the centre of mass."""
    centre, _ = system.centre_of_mass()
    return 10.0 * float(np.max(np.linalg.norm(system.positions - centre, axis=1)))


def integrate(
    system: System,
    t_end: float,
    integrator: str | IntegratorSettings = "hermite",
    *,
    record_times: RecordTimes = None,
    stop_on_escape: bool = False,
    escape_radius: float | None = None,
    close_encounter: float = 0.0,
    radii: np.ndarray | list[float] | None = None,
    on_collision: OnCollision = "stop",
    max_steps: int = 100_000_000,
    progress: bool = False,
    energy_warning: float = ENERGY_WARNING,
    **parameters: float | str | None,
) -> Run:
    """Integrate ``system`` from t = 0 to ``t_end`` (or to an event).

    Parameters
    ----------
    system
        Initial conditions.
    t_end
        Final time (> 0).
    integrator
        The integrator's settings (:mod:`nbody.integrators.settings`), or its name: ``"hermite"``, ``"leapfrog"``,
        ``"rk"`` (Dormand-Prince 5(4)), ``"ias15"`` or ``"archain"`` (regularised).
    record_times
        Times at which to store the state (the start and ``t_end`` are always stored; None: only those), or
        ``"steps"``: every step (costs a copy of the state per step).
    stop_on_escape
        Stop when a body is unbound and farther than ``escape_radius`` from the others' centre of
        mass (default: :func:`default_escape_radius`).
    close_encounter
        Stop when two bodies come closer than this (0 disables).
    radii, on_collision
        Radii of the bodies, and whether a collision stops the run or merges the pair (see :class:`Simulation`).
    max_steps
        Stop after this many steps.
    progress
        Show a progress bar in simulated time (only on a terminal).
    energy_warning
        Warn (:class:`EnergyErrorWarning`) when the relative energy error at a stored snapshot passes this, or is not
        finite; the run's ``energy_exceeded`` says so too.
    **parameters
        With a name: the integrator's parameter, ``eta`` for Hermite (``criterion`` ``"aarseth"`` or ``"collision"``)
        and adaptive leapfrog, ``tol`` for ``rk``, ``ias15`` and ``archain``, or a fixed ``dt`` for any of them.

    Returns
    -------
    Run
        Snapshots, energy and angular momentum errors, cost counters, events.
    """
    from adaptsim.progress import ProgressBar

    times = _check_times(t_end, record_times)
    simulation = Simulation(system, integrator, radii=radii, on_collision=on_collision, **parameters)
    name = simulation.settings.integrator
    radius = (escape_radius if escape_radius is not None else default_escape_radius(system)) if stop_on_escape else 0.0
    targets = np.array([t_end]) if times is None or times.size == 0 else np.union1d(times[times > 0.0], [t_end])
    out_t, out_x, out_v = [np.zeros(1)], [simulation.x[None].copy()], [simulation.v[None].copy()]
    started = _time.perf_counter()
    with ProgressBar(name, total=float(t_end), unit="t", enabled=progress) as bar:
        for target in targets:
            steps_before = simulation.n_steps
            t, x, v = simulation.advance(
                target,
                escape_radius=radius,
                close_distance=close_encounter,
                max_steps=max_steps,
                record=times is None,
                on_progress=bar.update,
            )
            max_steps -= simulation.n_steps - steps_before
            if times is None:
                out_t.append(t)
                out_x.append(x)
                out_v.append(v)
            elif simulation.status == COMPLETED or simulation.t > out_t[-1][-1]:
                out_t.append(np.array([simulation.t]))
                out_x.append(simulation.full(simulation.x[None].copy()))
                out_v.append(simulation.full(simulation.v[None].copy()))
            if simulation.status != COMPLETED:
                break
    wall = _time.perf_counter() - started
    times_out = np.concatenate(out_t)
    positions = np.concatenate(out_x)
    velocities = np.concatenate(out_v)
    keep = np.concatenate([[True], np.diff(times_out) > 0.0])  # time 0 requested explicitly, or an event on a record time
    times_out, positions, velocities = times_out[keep], positions[keep], velocities[keep]
    energies, momenta = _conserved(system.masses, simulation.collisions, positions, velocities, simulation.softening)
    l0 = float(np.linalg.norm(simulation.angular_momentum0))
    ids = simulation.ids
    pair = divmod(simulation.event_body, len(ids))
    status = simulation.status
    if Status(status).failed:
        warnings.warn(f"{name} stopped at t = {simulation.t:.6g} of {t_end:.6g}: {Status(status).label}", EarlyStopWarning, stacklevel=2)
    run = Run(
        times=times_out,
        positions=positions,
        velocities=velocities,
        energy_error=relative_energy_error(energies, simulation.energy0),
        angular_momentum_error=np.linalg.norm(momenta - simulation.angular_momentum0, axis=1) / (l0 if l0 > 0.0 else 1.0),
        masses=system.masses.copy(),
        softening=simulation.softening,
        integrator=name,
        parameter_name=simulation.stepper.parameter_name,
        parameter=simulation.stepper.parameter,
        n_steps=simulation.n_steps,
        n_force_evals=simulation.n_force_evals,
        escaped=int(ids[simulation.event_body]) if status == ESCAPE else -1,
        close_encounter=(int(ids[pair[0]]), int(ids[pair[1]])) if status == CLOSE_ENCOUNTER else None,
        status=Status(status),
        wall_time=wall,
        energy0=simulation.energy0,
        collisions=simulation.collisions,
    )
    message = energy_warning_message(run, energy_warning)
    if message is not None:
        run.energy_exceeded_at = energy_exceeded_at(run, energy_warning)
        warnings.warn(message, EnergyErrorWarning, stacklevel=2)
    return run
