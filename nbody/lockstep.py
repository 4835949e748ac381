"""A queue of systems of one step function integrated in lock step, :data:`~nbody.lanes.LANES` at a time.

:func:`lockstep_runner` compiles, for one step function with a lane step (``lane_<step function>`` in its module,
:data:`~nbody.integrators.dispatch.LANE_STEPS`) and one number of bodies, a run over a queue of systems: each
system is (re)started if asked, put into a free lane (:mod:`nbody.lanes`), and every lane advances by one round of
the lane step (:class:`~nbody.lanes.LaneStep`: a step, or for IAS15 an iteration). After each round each lane that
took a step does the time loop's bookkeeping (:func:`nbody.time_loop.advance` without events: the
last step lands on the target time; a step that does not advance time, a non-finite state or the step budget ends
it); a system that is done goes back to its arrays and the next of the queue takes its lane. When the queue is
empty and fewer than ``min_active`` lanes are busy, a round costs more than their steps one by one, and the
systems left are handed to a pool (after the lane step's handover, which puts a system caught in the middle of a
step back where that step began), where any thread free finishes them in the compiled time loop itself: a system
that is still far from its target (a close encounter) then does not hold up the thread whose lanes it was in while
another thread waits. Each system's states, times, steps, force evaluations and statuses are bit for bit those of
the time loop run on it alone.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from nbody import lanes
from nbody._jit import fetch_add, jit
from nbody.events import closest_pair, escaping_body
from nbody.forces import collision_time, kinetic_energy, potential_energy
from nbody.integrators.dispatch import LANE_STEPS, init
from nbody.integrators.dispatch import work_size as integrator_work_size  # (the name ``work_size`` is the run's length)
from nbody.lanes import ARRIVED, BROKEN, DT_MAX, EVALS, GOING, LANES, PARAM, SCALARS, STALLED, STEPPED, STEPS, STOP, TARGET, T
from nbody.time_loop import CLOSE_ENCOUNTER, COMPLETED, ESCAPE, MAX_STEPS, NON_FINITE, STEP_UNDERFLOW

#: The fewest busy lanes worth a lock-step round once the queue is empty (a round of 16 lanes of a three-body Hermite
#: step costs about four steps of one system alone).
MIN_ACTIVE = 4


#: The status of a system handed to the pool by :func:`lockstep_runner`'s run, until it is finished.
POOLED = -1


#: The most bodies stepped in lock step: a lane step's pair loops are unrolled, and compiling a Hermite lane step took
#: 6, 15 and 43 s of CPU for 3, 4 and 6 bodies (systems of more bodies run one by one).
MAX_BODIES = 4


def has_lanes(code: int, n: int) -> bool:
    """Whether step function ``code`` has a lane step for systems of ``n`` bodies."""
    return code in LANE_STEPS and n <= MAX_BODIES


@jit
def observe(system, m, x, v, eps2, energies, t_coll):
    """The total energy and the collision time (:func:`~nbody.forces.collision_time`) of ``system`` into ``energies``
    and ``t_coll``, when it is done."""
    energies[system] = kinetic_energy(m[system], v[system]) + potential_energy(m[system], x[system], eps2[system])
    t_coll[system] = collision_time(m[system], x[system], v[system], eps2[system])


@functools.cache
def lockstep_runner(code: int, module_code: int, n: int) -> Callable[..., Any]:
    """The lock-step run of step function ``code`` (of integrator ``module_code``) for ``n`` bodies.

    It is called from compiled code as ``run(queue, restart, param, t_target, max_steps, m, x, v, eps2, work, t,
    steps, evals, status, body, energies, t_coll, min_active, pool, pool_size, escape_radius, close_distance)``: the
    systems ``queue`` (indices into the arrays, which are those of :class:`~nbody.batch_engine.BatchEngine`) are
    advanced to ``t_target``, or to the first step after which one of them meets an event of the time loop (a body
    escaping past ``escape_radius``, a pair closer than ``close_distance``; 0 turns it off), and their ``t``,
    ``steps``, ``evals``, ``status``, ``body`` (the event's, as the time loop gives it; -1 without), ``energies`` and
    ``t_coll`` (:func:`observe`) written, except the last
    few (fewer than ``min_active``), which are handed over at the state their lane left them in (``t``, ``steps``
    and ``evals`` so far, status :data:`POOLED`) to the pool: each is written, as its index plus one, into the next
    slot of ``pool`` (an int64 array of zeros), whose count ``pool_size[0]`` is raised atomically; whoever finishes
    it runs the time loop from there (``max_steps`` less the steps taken), adds its steps and force evaluations and
    observes it.
    """
    work_size = integrator_work_size(module_code, n)
    lane_step = LANE_STEPS[code](n, work_size)
    rows, step, handover = lane_step.rows, lane_step.step, lane_step.handover
    sums = lanes.finite_sums(rows)
    x_row, v_row, m_row, eps2_row, work_row, size = rows.x, rows.v, rows.m, rows.eps2, rows.work, rows.size

    @jit
    def load(s, d, lane, m, x, v, eps2, param, work, t, t_target):
        """Put one system into ``lane``."""
        for i in range(n):
            s[(m_row + i) * LANES + lane] = m[i]
            for k in range(3):
                s[(x_row + 3 * i + k) * LANES + lane] = x[i, k]
                s[(v_row + 3 * i + k) * LANES + lane] = v[i, k]
        s[eps2_row * LANES + lane] = eps2
        for index in range(work_size):
            s[(work_row + index) * LANES + lane] = work[index]
        d[PARAM * LANES + lane] = param
        d[T * LANES + lane] = t
        d[TARGET * LANES + lane] = t_target
        d[DT_MAX * LANES + lane] = t_target - t
        for row in range(STOP, SCALARS):  # the counts, and the lane step's own scalars
            d[row * LANES + lane] = 0.0

    @jit
    def store(s, lane, x, v, work):
        """Copy the state of ``lane`` back to its system."""
        for i in range(n):
            for k in range(3):
                x[i, k] = s[(x_row + 3 * i + k) * LANES + lane]
                v[i, k] = s[(v_row + 3 * i + k) * LANES + lane]
        for index in range(work_size):
            work[index] = s[(work_row + index) * LANES + lane]

    @jit
    def event(s, lane, m, escape_radius, close_distance, xs, vs):
        """``(status, body)`` of the event the system in ``lane`` meets after its step, in the time loop's order (a close
        pair, then an escape), or ``(COMPLETED, -1)``; ``xs`` and ``vs`` are (n, 3) arrays to copy its state into."""
        for i in range(n):
            for k in range(3):
                xs[i, k] = s[(x_row + 3 * i + k) * LANES + lane]
                vs[i, k] = s[(v_row + 3 * i + k) * LANES + lane]
        if close_distance > 0.0:
            distance, i, j = closest_pair(xs)
            if distance < close_distance:
                return CLOSE_ENCOUNTER, i * n + j
        if escape_radius > 0.0:
            escaping = escaping_body(m, xs, vs, escape_radius)
            if escaping >= 0:
                return ESCAPE, escaping
        return COMPLETED, -1

    @jit
    def take(
        s, d, lane, queue, cursor, restart, param, t_target, max_steps, m, x, v, eps2, work, t, steps, evals, status, body, energies,
        t_coll,
    ):  # fmt: skip
        """Start the systems of the queue from ``cursor`` on until one needs a step, and put that one into ``lane``
        (a restart and a system already at its target are the time loop's, without a step). Returns ``(cursor,
        system)``, the system -1 when the queue ran out."""
        while cursor < queue.shape[0]:
            system = queue[cursor]
            cursor += 1
            w = work[system, :work_size]
            steps[system] = 0
            evals[system] = 0
            body[system] = -1
            if restart[system]:
                w[:] = 0.0
                evals[system] = init(module_code, x[system], v[system], m[system], eps2[system], w)
            if t[system] < t_target[system] and max_steps > 0:
                load(s, d, lane, m[system], x[system], v[system], eps2[system], param[system], w, t[system], t_target[system])
                return cursor, system
            status[system] = COMPLETED if not t[system] < t_target[system] else MAX_STEPS
            observe(system, m, x, v, eps2, energies, t_coll)
        return cursor, -1

    @jit
    def run(
        queue, restart, param, t_target, max_steps, m, x, v, eps2, work, t, steps, evals, status, body, energies, t_coll, min_active,
        pool, pool_size, escape_radius, close_distance,
    ):  # fmt: skip
        s = np.zeros(size * LANES)
        d = np.zeros(SCALARS * LANES)
        occupant = np.full(LANES, -1)
        watching = escape_radius > 0.0 or close_distance > 0.0
        xs = np.empty((n, 3))
        vs = np.empty((n, 3))
        cursor = 0
        for lane in range(LANES):
            cursor, occupant[lane] = take(
                s, d, lane, queue, cursor, restart, param, t_target, max_steps, m, x, v, eps2, work, t, steps, evals, status, body,
                energies, t_coll,
            )  # fmt: skip
        busy = np.sum(occupant >= 0)
        while busy >= min_active and busy > 0:
            step(s, d, LANES)
            sums(s, d, LANES)
            lanes.advance_times(s, d, LANES)
            for lane in range(LANES):
                system = occupant[lane]
                if system < 0:
                    continue
                ended = d[STOP * LANES + lane]
                met, met_body = COMPLETED, -1
                # the time loop looks for events after a step that moved time to finite values
                if watching and d[STEPPED * LANES + lane] != 0.0 and ended != STALLED and ended != BROKEN:
                    met, met_body = event(s, lane, m[system], escape_radius, close_distance, xs, vs)
                if met == COMPLETED and ended == GOING and d[STEPS * LANES + lane] < max_steps:
                    continue
                steps[system] = int(d[STEPS * LANES + lane])
                evals[system] += int(d[EVALS * LANES + lane])
                t[system] = d[T * LANES + lane]
                status[system] = (
                    met
                    if met != COMPLETED
                    else STEP_UNDERFLOW
                    if ended == STALLED
                    else NON_FINITE
                    if ended == BROKEN
                    else COMPLETED
                    if ended == ARRIVED
                    else MAX_STEPS
                )
                body[system] = met_body
                store(s, lane, x[system], v[system], work[system, :work_size])
                observe(system, m, x, v, eps2, energies, t_coll)
                d[DT_MAX * LANES + lane] = 0.0  # a lane left idle steps by 0
                cursor, occupant[lane] = take(
                    s, d, lane, queue, cursor, restart, param, t_target, max_steps, m, x, v, eps2, work, t, steps, evals, status,
                    body, energies, t_coll,
                )  # fmt: skip
                busy -= occupant[lane] < 0
        handover(s, d, LANES)
        for lane in range(LANES):  # the last few, to the pool, where any thread finishes them
            system = occupant[lane]
            if system < 0:
                continue
            steps[system] = int(d[STEPS * LANES + lane])
            evals[system] += int(d[EVALS * LANES + lane])
            t[system] = d[T * LANES + lane]
            store(s, lane, x[system], v[system], work[system, :work_size])
            status[system] = POOLED
            fetch_add(pool, fetch_add(pool_size, 0, 1), system + 1)  # (the writes above are seen with it)

    return run
