"""The time loop: integrate a system (or a batch of systems) to a time or until an event.

:class:`Simulation` holds the state between calls, so a caller can change the integrator's
parameter from one interval to the next (the reinforcement-learning environments do this);
:func:`integrate` runs one system to ``t_end`` and returns a :class:`Run` with the snapshots and
diagnostics; :func:`integrate_batch` runs many independent systems in parallel (``numba.prange``).
The compiled loop :func:`advance` is the only loop over time in the package.
"""

from __future__ import annotations

import functools
import math
import time as _time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Literal

import numba
import numpy as np
from numba import prange

from adaptsim.errors import CaseError
from nbody._jit import jit, jit_inline, parallel_jit
from nbody.collisions import Collision, OnCollision, check_radii, merge
from nbody.diagnostics import angular_momentum, energy, relative_energy_error
from nbody.events import closest_pair, colliding_pair, escaping_body, pair_state, passed_inside
from nbody.integrators.dispatch import init, step
from nbody.integrators.stepper import Stepper, check_parameter, resolve
from nbody.integrators.table import ENERGY_WARNING
from nbody.state import System


class Status(IntEnum):
    """How a run (or one system of a batch) ended; the compiled loop returns these codes."""

    COMPLETED = 0
    BUFFER_FULL = 1
    ESCAPE = 2
    CLOSE_ENCOUNTER = 3
    MAX_STEPS = 4
    NON_FINITE = 5
    STEP_UNDERFLOW = 6
    COLLISION = 7

    @property
    def label(self) -> str:
        """Words for the log and the result file, e.g. ``"close encounter"``."""
        return "non-finite state" if self is Status.NON_FINITE else self.name.lower().replace("_", " ")

    def __str__(self) -> str:
        return self.label

    @property
    def failed(self) -> bool:
        """Whether the integration broke off before its end without an event the caller asked for."""
        return self in (Status.MAX_STEPS, Status.NON_FINITE, Status.STEP_UNDERFLOW)


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

# the codes as plain integers, for the compiled loop
COMPLETED, BUFFER_FULL, ESCAPE, CLOSE_ENCOUNTER, MAX_STEPS, NON_FINITE, STEP_UNDERFLOW, COLLISION = (int(status) for status in Status)
_STATUSES = tuple(Status)  # by code, without an enum lookup per call
# the buffers of an advance that records nothing (of size 0: shared by every call)
_NO_TIMES = np.empty(0)
_NO_STATES = np.empty((0, 0, 3))


@jit_inline
def _finite(x, v):
    """True when every coordinate is finite (a NaN or inf makes the sum non-finite)."""
    total = 0.0
    for i in range(x.shape[0]):
        for k in range(3):
            total += x[i, k] + v[i, k]
    return math.isfinite(total)


#: The contact time of a collision found inside a step is located to this relative precision.
CONTACT_PRECISION = 1e-13


@jit_inline
def _integrate_watching(code, x, v, m, eps2, param, work, t, target, i, j, reach, watch):
    """Integrate from ``t`` to ``target``; with ``watch``, stop at the end of the first step in which bodies ``i, j``
    touch (:func:`_contact`). Returns ``(t, force evaluations, touched)``."""
    dx = np.empty(3)
    dv = np.empty(3)
    evals = 0
    radial_before = pair_state(x, v, i, j, dx, dv)[1]
    while t < target:
        dt, spent = step(code, x, v, m, eps2, param, target - t, work)
        evals += spent
        if not (dt > 0.0) or t + dt == t:
            break
        t = target if dt >= target - t else t + dt
        if watch:
            distance, radial = pair_state(x, v, i, j, dx, dv)
            if distance < reach or passed_inside(m[i] + m[j], dx, dv, radial_before, dt, reach):
                return t, evals, True
            radial_before = radial
    return t, evals, False


@jit_inline
def _contact(code, x, v, m, eps2, param, work, t0, t1, reach, i, j, x0, v0, work0):
    """First time in ``(t0, t1]`` at which bodies ``i, j`` touch, by bisection; ``x0, v0, work0`` hold the state
    at ``t0`` on entry (they are overwritten) and ``x, v, work`` the state at contact on return.

    Touching is "closer than ``reach``, or past the pericentre of a two-body orbit that reaches inside it"
    (:func:`~nbody.events.passed_inside`; a regularised step goes through a collision and out again).
    Returns ``(t, force evaluations, touched)``: not touched when the collision was a false alarm (the pair's
    orbit was not two-body enough for the pericentre test; the caller goes on from the end of the step).
    """
    dx = np.empty(3)
    dv = np.empty(3)
    evals = 0
    low, high = t0, t1
    for _ in range(200):
        if high - low <= CONTACT_PRECISION * max(1.0, abs(high)):
            break
        target = 0.5 * (low + high)
        x[:, :] = x0
        v[:, :] = v0
        work[:] = work0
        t, spent, touched = _integrate_watching(code, x, v, m, eps2, param, work, low, target, i, j, reach, True)
        evals += spent
        if touched:
            high = t
        else:
            low = target
            x0[:, :] = x
            v0[:, :] = v
            work0[:] = work
    x[:, :] = x0
    v[:, :] = v0
    work[:] = work0
    t, spent, _ = _integrate_watching(code, x, v, m, eps2, param, work, low, high, i, j, reach, False)
    evals += spent
    distance, radial = pair_state(x, v, i, j, dx, dv)
    return (
        t,
        evals,
        distance < reach * (1.0 + 1e-6) or passed_inside(m[i] + m[j], dx, dv, -1.0, CONTACT_PRECISION * max(1.0, abs(t)), reach),
    )


@jit
def advance(code, x, v, m, eps2, param, work, t, t_target, max_steps, escape_radius, close_distance, radii, buf_t, buf_x, buf_v, n_rec):
    """Advance ``x, v`` in place from ``t`` towards ``t_target`` with step function ``code``, stopping early on an event.

    The last step is shortened to land exactly on ``t_target``. When ``buf_t`` is not empty, every
    step's state is stored in the buffers from index ``n_rec`` on, and the loop returns
    ``BUFFER_FULL`` when they are full. ``escape_radius`` and ``close_distance`` of 0 disable those events;
    ``radii`` of None disables collisions, and the loop is then compiled without the contact search.

    Returns
    -------
    tuple
        ``(t, n_steps, n_force_evals, status, body, n_rec)``; ``body`` is the escaping body, or
        ``i * N + j`` for a close encounter or a collision of ``i`` and ``j``, else -1.
    """
    n_steps = 0
    n_evals = 0
    status = COMPLETED
    body = -1
    record = buf_t.shape[0] > 0
    n = m.shape[0]
    t_start = t
    if radii is not None:  # (each test of radii on its own: Numba prunes the branch when it is None)
        approach = np.zeros(n * (n - 1) // 2)
        x_start = np.empty_like(x)
        v_start = np.empty_like(v)
        work_start = np.empty_like(work)
        body = colliding_pair(m, x, v, radii, approach, 0.0)
        if body >= 0:
            return t, n_steps, n_evals, COLLISION, body, n_rec
    while t < t_target:
        if n_steps >= max_steps:
            status = MAX_STEPS
            break
        if record and n_rec >= buf_t.shape[0]:
            status = BUFFER_FULL
            break
        remaining = t_target - t
        if radii is not None:  # the start of the step, to go back to when a collision is found inside it
            x_start[:, :] = x
            v_start[:, :] = v
            work_start[:] = work
            t_start = t
        dt, evals = step(code, x, v, m, eps2, param, remaining, work)
        n_steps += 1
        n_evals += evals
        if not (dt > 0.0) or t + dt == t:
            status = STEP_UNDERFLOW
            break
        t = t_target if dt >= remaining else t + dt
        if record:
            buf_t[n_rec] = t
            buf_x[n_rec] = x
            buf_v[n_rec] = v
            n_rec += 1
        if not _finite(x, v):
            status = NON_FINITE
            break
        if close_distance > 0.0:
            distance, i, j = closest_pair(x)
            if distance < close_distance:
                status = CLOSE_ENCOUNTER
                body = i * n + j
                break
        if radii is not None:
            body = colliding_pair(m, x, v, radii, approach, t - t_start)
            if body >= 0:
                i, j = body // n, body % n
                x_end = x.copy()
                v_end = v.copy()
                work_end = work.copy()
                t_end = t
                t, spent, touched = _contact(
                    code, x, v, m, eps2, param, work, t_start, t_end, radii[i] + radii[j], i, j, x_start, v_start, work_start
                )
                n_evals += spent
                if touched:
                    if record:
                        buf_t[n_rec - 1] = t
                        buf_x[n_rec - 1] = x
                        buf_v[n_rec - 1] = v
                    status = COLLISION
                    break
                x[:, :] = x_end  # a false alarm: on from the end of the step
                v[:, :] = v_end
                work[:] = work_end
                t = t_end
                body = -1
        if escape_radius > 0.0:
            body = escaping_body(m, x, v, escape_radius)
            if body >= 0:
                status = ESCAPE
                break
    return t, n_steps, n_evals, status, body, n_rec


def _loop_radii(radii: np.ndarray) -> np.ndarray | None:
    """The ``radii`` argument of :func:`advance`: None without radii, so the loop is compiled without collisions."""
    return radii if radii.shape[0] else None


@functools.cache
def compiled_loop(code: int) -> Callable[..., tuple[float, int, int, int, int, int]]:
    """:func:`advance` compiled for step function ``code`` alone (a constant of the closure), callable from Python.

    Each step function gets its own compiled loop, so a run compiles only the integrator it uses (Numba keeps
    each on disk, keyed by ``code``). Takes the arguments of :func:`advance` after ``code``.
    """

    @jit
    def advance_with(x, v, m, eps2, param, work, t, t_target, max_steps, escape_radius, close_distance, radii, buf_t, buf_x, buf_v, n_rec):
        return advance(
            code, x, v, m, eps2, param, work, t, t_target, max_steps, escape_radius, close_distance, radii, buf_t, buf_x, buf_v, n_rec
        )

    return advance_with


class Simulation:
    """A system being integrated: state, integrator work space, time and cost counters.

    Parameters
    ----------
    system
        Initial conditions (copied).
    integrator
        A name of :data:`~nbody.integrators.table.INTEGRATOR_NAMES`.
    eta, dt, tol, criterion
        The integrator's parameter (see :func:`nbody.integrators.stepper.resolve`).
    radii
        One radius per body: two bodies closer than the sum of their radii collide (None: point masses).
    on_collision
        ``"stop"`` (status :attr:`Status.COLLISION`) or ``"merge"`` the pair into one body at their centre of
        mass with their momentum and go on; every collision is in :attr:`collisions`.

    Attributes
    ----------
    ids
        The index in the initial system of each body integrated now (bodies leave by merging).
    """

    def __init__(
        self,
        system: System,
        integrator: str = "hermite",
        *,
        eta: float | None = None,
        dt: float | None = None,
        tol: float | None = None,
        criterion: str = "aarseth",
        radii: np.ndarray | list[float] | None = None,
        on_collision: OnCollision = "stop",
    ) -> None:
        self.stepper: Stepper = resolve(integrator, eta=eta, dt=dt, tol=tol, criterion=criterion)
        self._advance = compiled_loop(self.stepper.code)
        if on_collision not in ("stop", "merge"):
            raise CaseError(f"must be 'stop' or 'merge', got {on_collision!r}", field=("on_collision",))
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
                remaining_steps, float(escape_radius), float(close_distance), _loop_radii(self.radii),
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
        self.status = _STATUSES[status]
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


def _check_times(t_end: float, record_times: RecordTimes) -> np.ndarray | None:
    """The record times as a sorted array (empty: the start and the end only), or None for every step."""
    if not (isinstance(t_end, (int, float, np.floating)) and np.isfinite(t_end) and t_end > 0.0):
        raise CaseError(f"must be a finite number > 0, got {t_end!r}", field=("t_end",))
    if isinstance(record_times, str):
        if record_times != "steps":
            raise CaseError(f"must be times or 'steps', got {record_times!r}", field=("record_times",))
        return None
    if record_times is None:
        return np.empty(0)
    times = np.unique(np.asarray(record_times, dtype=float))
    if times.size and (not np.all(np.isfinite(times)) or times[0] < 0.0 or times[-1] > t_end):
        raise CaseError(f"must lie in [0, t_end = {t_end}]", field=("record_times",))
    return times


def default_escape_radius(system: System) -> float:
    """Ten times the largest initial distance of a body from the centre of mass."""
    centre, _ = system.centre_of_mass()
    return 10.0 * float(np.max(np.linalg.norm(system.positions - centre, axis=1)))


def integrate(
    system: System,
    t_end: float,
    integrator: str = "hermite",
    *,
    eta: float | None = None,
    dt: float | None = None,
    tol: float | None = None,
    criterion: str = "aarseth",
    record_times: RecordTimes = None,
    stop_on_escape: bool = False,
    escape_radius: float | None = None,
    close_encounter: float = 0.0,
    radii: np.ndarray | list[float] | None = None,
    on_collision: OnCollision = "stop",
    max_steps: int = 100_000_000,
    progress: bool = False,
    energy_warning: float = ENERGY_WARNING,
) -> Run:
    """Integrate ``system`` from t = 0 to ``t_end`` (or to an event).

    Parameters
    ----------
    system
        Initial conditions.
    t_end
        Final time (> 0).
    integrator
        ``"hermite"``, ``"leapfrog"``, ``"rk"`` (Dormand-Prince 5(4)) or ``"ias15"``.
    eta, dt, tol, criterion
        The integrator's parameter: ``eta`` for Hermite (``criterion`` ``"aarseth"`` or
        ``"collision"``) and adaptive leapfrog, ``tol`` for ``rk`` and ``ias15``, or a fixed ``dt``
        for any of them.
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

    Returns
    -------
    Run
        Snapshots, energy and angular momentum errors, cost counters, events.
    """
    from adaptsim.progress import ProgressBar

    times = _check_times(t_end, record_times)
    simulation = Simulation(system, integrator, eta=eta, dt=dt, tol=tol, criterion=criterion, radii=radii, on_collision=on_collision)
    radius = (escape_radius if escape_radius is not None else default_escape_radius(system)) if stop_on_escape else 0.0
    targets = np.array([t_end]) if times is None else np.union1d(times[times > 0.0], [t_end])
    out_t, out_x, out_v = [np.zeros(1)], [simulation.x[None].copy()], [simulation.v[None].copy()]
    started = _time.perf_counter()
    with ProgressBar(f"{integrator}", total=float(t_end), unit="t", enabled=progress) as bar:
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
        warnings.warn(
            f"{integrator} stopped at t = {simulation.t:.6g} of {t_end:.6g}: {Status(status).label}", EarlyStopWarning, stacklevel=2
        )
    run = Run(
        times=times_out,
        positions=positions,
        velocities=velocities,
        energy_error=relative_energy_error(energies, simulation.energy0),
        angular_momentum_error=np.linalg.norm(momenta - simulation.angular_momentum0, axis=1) / (l0 if l0 > 0.0 else 1.0),
        masses=system.masses.copy(),
        softening=simulation.softening,
        integrator=integrator,
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


@dataclass
class BatchResult:
    """Final states and diagnostics of :func:`integrate_batch` (one row per system; ``status`` holds the
    :class:`Status` codes)."""

    positions: np.ndarray
    velocities: np.ndarray
    times: np.ndarray
    energy_error: np.ndarray
    n_steps: np.ndarray
    n_force_evals: np.ndarray
    status: np.ndarray
    event_body: np.ndarray
    wall_time: float


@functools.cache
def _batch_kernel(code: int, module_code: int) -> Callable[..., tuple[np.ndarray, ...]]:
    """The batch loop compiled for step function ``code`` of integrator ``module_code`` (constants of the closure)."""

    @parallel_jit
    def run_batch(masses, X, V, eps2, param, t_end, max_steps, escape_radius, close_distance, radii, work_length):
        n_systems = X.shape[0]
        times = np.zeros(n_systems)
        steps = np.zeros(n_systems, dtype=np.int64)
        evals = np.zeros(n_systems, dtype=np.int64)
        status = np.zeros(n_systems, dtype=np.int64)
        bodies = np.zeros(n_systems, dtype=np.int64)
        for s in prange(n_systems):
            x = X[s]
            v = V[s]
            m = masses[s]
            work = np.zeros(work_length)
            first = init(module_code, x, v, m, eps2, work)
            t, ns, ne, st, body, _ = advance(
                code, x, v, m, eps2, param, work, 0.0, t_end, max_steps, escape_radius, close_distance, radii,
                np.empty(0), np.empty((0, 1, 3)), np.empty((0, 1, 3)), 0,
            )  # fmt: skip
            times[s] = t
            steps[s] = ns
            evals[s] = ne + first
            status[s] = st
            bodies[s] = body
        return times, steps, evals, status, bodies

    return run_batch


def integrate_batch(
    masses: np.ndarray,
    positions: np.ndarray,
    velocities: np.ndarray,
    t_end: float,
    integrator: str = "hermite",
    *,
    eta: float | None = None,
    dt: float | None = None,
    tol: float | None = None,
    criterion: str = "aarseth",
    escape_radius: float = 0.0,
    close_encounter: float = 0.0,
    radii: np.ndarray | list[float] | None = None,
    max_steps: int = 100_000_000,
    softening: float = 0.0,
) -> BatchResult:
    """Integrate many independent systems to ``t_end`` in parallel (one system per thread at a time).

    Parameters
    ----------
    masses
        ``(B, N)`` masses, or ``(N,)`` shared by every system.
    positions, velocities
        ``(B, N, 3)`` initial states.
    t_end, integrator, eta, dt, tol, criterion, escape_radius, close_encounter, max_steps, softening
        As in :func:`integrate` (``escape_radius`` and ``close_encounter`` of 0 disable the events).
    radii
        ``(N,)`` radii of the bodies, shared by every system: a collision stops that system (status
        :attr:`Status.COLLISION`, the pair ``i * N + j`` in ``event_body``).

    Returns
    -------
    BatchResult
        Final states, times reached, relative energy errors, steps, force evaluations and status codes
        (:class:`Status`).
    """
    positions = np.ascontiguousarray(positions, dtype=np.float64).copy()
    velocities = np.ascontiguousarray(velocities, dtype=np.float64).copy()
    if positions.ndim != 3 or positions.shape[2] != 3 or velocities.shape != positions.shape:
        raise CaseError(
            f"positions and velocities must have the same shape (B, N, 3), got {positions.shape} and {velocities.shape}",
            field=("positions",),
        )
    n_systems, n = positions.shape[:2]
    masses = np.ascontiguousarray(np.broadcast_to(np.asarray(masses, dtype=np.float64), (n_systems, n)))
    for index in range(n_systems):  # validates every system with the same messages as a single run
        System(masses[index], positions[index], velocities[index], softening)
    _check_times(t_end, None)
    stepper = resolve(integrator, eta=eta, dt=dt, tol=tol, criterion=criterion)
    radii = check_radii(radii, n)
    eps2 = float(softening) ** 2
    initial_energy = np.array([energy(masses[s], positions[s], velocities[s], softening) for s in range(n_systems)])
    started = _time.perf_counter()
    with numba.parallel_chunksize(1):  # systems differ in cost: hand them out one at a time
        times, steps, evals, status, bodies = _batch_kernel(stepper.code, stepper.module_code)(
            masses, positions, velocities, eps2, stepper.parameter, float(t_end),
            max_steps, float(escape_radius), float(close_encounter), _loop_radii(radii), stepper.work_size(n),
        )  # fmt: skip
    wall = _time.perf_counter() - started
    final_energy = np.array([energy(masses[s], positions[s], velocities[s], softening) for s in range(n_systems)])
    return BatchResult(
        positions=positions,
        velocities=velocities,
        times=times,
        energy_error=np.abs(final_energy - initial_energy) / np.abs(initial_energy),
        n_steps=steps,
        n_force_evals=evals,
        status=status,
        event_body=bodies,
        wall_time=wall,
    )
