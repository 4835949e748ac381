"""The lane steps of Dormand-Prince 5(4) (:mod:`nbody.integrators.dopri5`) for lock-step integration (:mod:`nbody.lanes`).

A round is one attempt of every lane: the six stages (each a force evaluation), the embedded error estimate and the
decision. A lane whose attempt passes takes its step in the round; one whose attempt fails keeps its state and tries
again in the next round with the smaller step that :func:`~nbody.integrators.dopri5.step_adaptive` would retry
with (kept in the lane's own scalars, as the step function keeps it in a local variable). The handover takes the
force evaluations of a step's failed attempts back from a lane caught between them: the step function, starting that
step again from the work array (whose first stage and proposed step a failed attempt does not touch), redoes those
attempts exactly and counts them itself. Every lane computes what the step function computes, in its order.
"""

import math

from nbody import lanes
from nbody._jit import jit, jit_inline
from nbody.integrators.dopri5 import _A, _E, _STAGES, _error_term, _next_proposed, _retried
from nbody.lanes import DT, DT_MAX, EVALS, LANES, OWN, PARAM, STEPPED

#: The lane's own scalars: the step proposed for its attempt, whether it is retrying a failed attempt, the force
#: evaluations of the failed attempts of its step, and the sum of the error norm.
_PROPOSED, _RETRYING, _FAILED_EVALS, _ERROR = OWN, OWN + 1, OWN + 2, OWN + 3


def _layout(rows: lanes.Rows) -> tuple[int, int, int, int, int, int, int, int]:
    """Rows of the work array's blocks (:func:`~nbody.integrators.dopri5._views`): the first stage velocity and
    acceleration, the stage state, the new state, the proposed step; and the lane's own rows (an acceleration)."""
    size = 3 * rows.n
    first_v = rows.work
    first_a = first_v + _STAGES * size
    xs = first_a + _STAGES * size
    return first_v, first_a, xs, xs + size, xs + 2 * size, xs + 3 * size, xs + 4 * size, rows.own


def _begin(rows: lanes.Rows, adaptive: bool) -> lanes.LaneFunction:
    """Each lane's step for its attempt into :data:`~nbody.lanes.DT`: the proposed one (the work array's, or the
    retry's), or the fixed ``dt``, at most the time left."""
    proposed = _layout(rows)[6]

    @jit_inline
    def run(s, d, w):
        for lane in range(w):
            retrying = d[_RETRYING * LANES + lane] != 0.0
            wanted = d[_PROPOSED * LANES + lane] if retrying else s[proposed * LANES + lane]
            d[_PROPOSED * LANES + lane] = wanted
            d[DT * LANES + lane] = min(wanted if adaptive else d[PARAM * LANES + lane], d[DT_MAX * LANES + lane])

    return run


def _stage(rows: lanes.Rows, stage: int, forces: lanes.LaneFunction) -> lanes.LaneFunction:
    """Stage ``stage`` of every lane (the loop body of :func:`~nbody.integrators.dopri5._attempt`): the stage state, its
    accelerations (``forces``, into the lane's own rows) and the stage's velocity and acceleration blocks."""
    first_v, first_a, xs, vs, _, _, _, own = _layout(rows)
    size = 3 * rows.n
    x, v = rows.x, rows.v
    coefficients = tuple(float(_A[stage, r]) for r in range(stage))
    stage_v, stage_a = first_v + stage * size, first_a + stage * size

    @jit_inline
    def run(s, d, w):
        for row in range(size):
            t = s[row * LANES :]  # a view: constant offsets in the lane loop
            for lane in range(w):
                dx = 0.0
                dv = 0.0
                for r in range(stage):
                    dx += coefficients[r] * t[(first_v + r * size) * LANES + lane]
                    dv += coefficients[r] * t[(first_a + r * size) * LANES + lane]
                t[xs * LANES + lane] = t[x * LANES + lane] + d[DT * LANES + lane] * dx
                t[vs * LANES + lane] = t[v * LANES + lane] + d[DT * LANES + lane] * dv
        forces(s, d, w)
        for row in range(size):
            t = s[row * LANES :]
            for lane in range(w):
                t[stage_a * LANES + lane] = t[own * LANES + lane]
                t[stage_v * LANES + lane] = t[vs * LANES + lane]

    return run


def _error(rows: lanes.Rows, adaptive: bool) -> lanes.LaneFunction:
    """The new state (the last stage's), and, ``adaptive``, each lane's scaled error norm into row ``_ERROR`` (the
    end of :func:`~nbody.integrators.dopri5._attempt`, with the lane's ``tol``)."""
    first_v, first_a, xs, vs, x_new, v_new, _, _ = _layout(rows)
    size, n = 3 * rows.n, rows.n
    x, v = rows.x, rows.v
    weights = tuple(float(e) for e in _E)

    @jit_inline
    def run(s, d, w):
        for row in range(size):
            t = s[row * LANES :]
            for lane in range(w):
                t[x_new * LANES + lane] = t[xs * LANES + lane]
                t[v_new * LANES + lane] = t[vs * LANES + lane]
        if not adaptive:
            return
        for lane in range(w):
            d[_ERROR * LANES + lane] = 0.0
        for row in range(size):
            t = s[row * LANES :]
            for lane in range(w):
                ex = 0.0
                ev = 0.0
                for stage in range(_STAGES):
                    ex += weights[stage] * t[(first_v + stage * size) * LANES + lane]
                    ev += weights[stage] * t[(first_a + stage * size) * LANES + lane]
                d[_ERROR * LANES + lane] += _error_term(
                    d[DT * LANES + lane], ex, ev, d[PARAM * LANES + lane],
                    t[x * LANES + lane], t[x_new * LANES + lane], t[v * LANES + lane], t[v_new * LANES + lane],
                )  # fmt: skip
        for lane in range(w):
            d[_ERROR * LANES + lane] = math.sqrt(d[_ERROR * LANES + lane] / (6 * n))

    return run


def _decide(rows: lanes.Rows, adaptive: bool) -> lanes.LaneFunction:
    """Each lane's verdict on its attempt (:func:`~nbody.integrators.dopri5.step_adaptive`; every attempt passes at a
    fixed step): the next proposed step where it passes, the retry's step where it fails, the counts."""
    proposed = _layout(rows)[6]
    spent = float(_STAGES - 1)

    @jit
    def run(s, d, w):
        for lane in range(w):
            error = d[_ERROR * LANES + lane] if adaptive else 0.0
            dt = d[DT * LANES + lane]
            wanted = d[_PROPOSED * LANES + lane]
            passed = error <= 1.0
            given_up = not math.isfinite(error) and dt < 1e-300
            if passed:
                if adaptive:  # (a fixed step leaves the proposed step alone)
                    s[proposed * LANES + lane] = _next_proposed(error, dt, wanted)
            elif given_up:
                s[proposed * LANES + lane] = dt
            else:
                d[_PROPOSED * LANES + lane] = _retried(error, dt)
            taken = passed or given_up
            d[STEPPED * LANES + lane] = 1.0 if taken else 0.0
            d[_RETRYING * LANES + lane] = 0.0 if taken else 1.0
            d[EVALS * LANES + lane] += spent
            d[_FAILED_EVALS * LANES + lane] = 0.0 if taken else d[_FAILED_EVALS * LANES + lane] + spent

    return run


def _accept(rows: lanes.Rows) -> lanes.LaneFunction:
    """Lanes that took their step: the new state, and the last stage as the next step's first
    (:func:`~nbody.integrators.dopri5._accept`)."""
    first_v, first_a, _, _, x_new, v_new, _, _ = _layout(rows)
    size = 3 * rows.n
    x, v = rows.x, rows.v
    last_v, last_a = first_v + (_STAGES - 1) * size, first_a + (_STAGES - 1) * size

    @jit_inline
    def run(s, d, w):
        for row in range(size):
            t = s[row * LANES :]
            for lane in range(w):
                taken = d[STEPPED * LANES + lane] != 0.0
                lanes.select(t, x * LANES + lane, taken, t[x_new * LANES + lane])
                lanes.select(t, v * LANES + lane, taken, t[v_new * LANES + lane])
                lanes.select(t, first_v * LANES + lane, taken, t[last_v * LANES + lane])
                lanes.select(t, first_a * LANES + lane, taken, t[last_a * LANES + lane])

    return run


@jit_inline
def _handover(s, d, w):
    """A lane between failed attempts gives back their force evaluations (the step function redoes them)."""
    for lane in range(w):
        d[EVALS * LANES + lane] -= d[_FAILED_EVALS * LANES + lane]
        d[_FAILED_EVALS * LANES + lane] = 0.0
        d[_RETRYING * LANES + lane] = 0.0


def _lane_step(n: int, work_size: int, adaptive: bool) -> lanes.LaneStep:
    """The lane step of :func:`~nbody.integrators.dopri5.step_adaptive` or :func:`~nbody.integrators.dopri5.step_fixed`."""
    rows = lanes.Rows(n, work_size, 3 * n)
    layout = _layout(rows)
    xs, own = layout[2], layout[7]
    forces = lanes.called(lanes.accelerations(rows, xs, own))
    stages = [_stage(rows, stage, forces) for stage in range(1, _STAGES)]
    step = lanes.chain([_begin(rows, adaptive), *stages, _error(rows, adaptive), _decide(rows, adaptive), _accept(rows)])
    return lanes.LaneStep(rows, step, _handover)


def lane_step_adaptive(n: int, work_size: int) -> lanes.LaneStep:
    """:func:`~nbody.integrators.dopri5.step_adaptive` of every lane (:mod:`nbody.lanes`) of ``n`` bodies and a work
    array of ``work_size``."""
    return _lane_step(n, work_size, True)


def lane_step_fixed(n: int, work_size: int) -> lanes.LaneStep:
    """:func:`~nbody.integrators.dopri5.step_fixed` of every lane (:mod:`nbody.lanes`) of ``n`` bodies and a work array
    of ``work_size``."""
    return _lane_step(n, work_size, False)
