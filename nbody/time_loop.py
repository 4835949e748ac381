"""The compiled time loop: advance one system's state to a time, or to the first event on the way.

:func:`advance` is the loop over steps of every run (:class:`~nbody.simulate.Simulation`, :func:`~nbody.simulate.integrate`,
:func:`~nbody.batch.integrate_batch` and :class:`~nbody.batch_engine.BatchEngine`): it calls the step function of a
compile-time code (:mod:`nbody.integrators.dispatch`), checks the state and the events after each step, and locates a
collision found inside a step by bisection (:func:`_contact`, whose :func:`_integrate_watching` re-integrates the
interval of that step). :func:`compiled_loop` compiles it for one step function, callable from Python. How a run ended
is a :class:`Status`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from enum import IntEnum

import numpy as np

from nbody._jit import borrowed, jit, jit_inline
from nbody.events import closest_pair, colliding_pair, escaping_body, pair_state, passed_inside
from nbody.integrators.dispatch import step, step_inlined


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


# the codes as plain integers, for the compiled loop
COMPLETED, BUFFER_FULL, ESCAPE, CLOSE_ENCOUNTER, MAX_STEPS, NON_FINITE, STEP_UNDERFLOW, COLLISION = (int(status) for status in Status)
#: The statuses by code, without an enum lookup per call.
STATUSES = tuple(Status)


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
    # the caller's arrays for the whole loop, passed to the step function at every step without reference counting
    x, v, m, work = borrowed(x), borrowed(v), borrowed(m), borrowed(work)
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
        if radii is None:  # (a separate branch: Numba prunes the other; see nbody.integrators.dispatch.INLINED)
            dt, evals = step_inlined(code, x, v, m, eps2, param, remaining, work)
        else:
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


def loop_radii(radii: np.ndarray) -> np.ndarray | None:
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
