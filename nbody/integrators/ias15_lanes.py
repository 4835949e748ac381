"""IAS15's lane steps (:mod:`nbody.lanes`): sixteen systems' :func:`~nbody.integrators.ias15.step_adaptive` or
:func:`~nbody.integrators.ias15.step_fixed` side by side, bit for bit the steps alone.

A round is one predictor-corrector iteration of every lane: a lane that has no attempt under way first starts one
(its step, the prediction of ``b``, ``g`` from ``b``), every lane evaluates the seven Gauss-Radau nodes, and a lane
whose iterations converged in the round then accepts its step (finishing it) or rejects it, as the step function
does, by masked selects; lanes thus take their steps in different rounds. The handover puts a lane caught in the
middle of an attempt back to the ``b`` that attempt started from, so that the step function redoes it exactly.
The arithmetic shared with the step functions (node coefficients, the prediction, ``g`` from ``b``, the compensated
sums) is :mod:`nbody.integrators.ias15`'s own.
"""

import math

import numpy as np

from nbody import lanes
from nbody._jit import jit, jit_inline
from nbody.integrators.ias15 import (
    _BLOCKS_7,
    _C,
    _C_START,
    _H,
    _LAST_DONE,
    _PROPOSED,
    _RR_INVERSE,
    _RR_START,
    ACCELERATION_FLOOR,
    _compensated,
    _converged,
    _derivatives,
    _end_acceleration,
    _estimated_step,
    _finished,
    _g_of_b,
    _next_proposed,
    _node_coefficients,
    _node_position,
    _powers,
    _predicted,
    _rejected,
    _timescale2,
)
from nbody.lanes import DT, DT_MAX, EVALS, LANES, PARAM, STEPPED

#: The rows of ``d`` each lane keeps from :data:`nbody.lanes.OWN` on: an attempt under way, its error, the last
#: iteration's, its iterations, the largest acceleration and change of ``b_6`` at node 7, whether to predict ``b``
#: and the ratio of the steps, whether the iterations converged, and the proposal's largest acceleration and
#: shortest time scale ...
_ATTEMPTING, _ERROR, _LAST_ERROR, _ITERATIONS, _MAX_A, _MAX_DB6, _PREDICTING, _RATIO, _CONVERGED, _LARGEST2, _TIMESCALE2 = range(
    lanes.OWN, lanes.OWN + 11
)
#: ... and the nine coefficients ``s0 .. s8`` of the node being evaluated.
_NODE = lanes.OWN + 11


def _lane_layout(rows: lanes.Rows) -> tuple[tuple[int, ...], tuple[int, ...], int, int, int]:
    """The first rows (coordinate 0) of the blocks of the work array in the lane array: ``b, e, br, er, g, csb`` and,
    of the lane step's own rows, ``b`` at the start of the attempt (coefficient ``k`` of each at ``+ k * 3 n``);
    ``a0, at, csx, csv, xn`` and, its own, the accelerations at the end of the step; then ``3 n`` and the rows of
    the proposed and the last step."""
    size = 3 * rows.n
    sevens = tuple(rows.work + block * 7 * size for block in range(_BLOCKS_7)) + (rows.own,)
    ones = tuple(rows.work + (7 * _BLOCKS_7 + block) * size for block in range(5)) + (rows.own + 7 * size,)
    return sevens, ones, size, rows.work + rows.work_size + _PROPOSED, rows.work + rows.work_size + _LAST_DONE


def _lane_start(rows: lanes.Rows, adaptive: bool) -> lanes.LaneFunction:
    """Lanes without an attempt under way start one: the step ``min(proposed, dt_max)`` (``adaptive``, else ``min(dt,
    dt_max)`` with ``dt`` the step parameter), :func:`~nbody.integrators.ias15._predict` (when a step was done before), the ``g`` of the ``b``
    and ``csb = 0`` (:func:`~nbody.integrators.ias15._attempt`), ``b`` kept for :func:`_lane_handover`."""
    (b, e, br, er, g, csb, b_start), _, size, proposed, last_done = _lane_layout(rows)

    @jit
    def run(s, d, w):
        for lane in range(w):
            beginning = d[_ATTEMPTING * LANES + lane] == 0.0
            dt = min(s[proposed * LANES + lane] if adaptive else d[PARAM * LANES + lane], d[DT_MAX * LANES + lane])
            last = s[last_done * LANES + lane]
            d[DT * LANES + lane] = dt if beginning else d[DT * LANES + lane]
            d[_PREDICTING * LANES + lane] = 1.0 if beginning and last != 0.0 else 0.0
            d[_RATIO * LANES + lane] = dt / last  # (read only when predicting)
            d[_ERROR * LANES + lane] = 1e300 if beginning else d[_ERROR * LANES + lane]
            d[_LAST_ERROR * LANES + lane] = 2.0 if beginning else d[_LAST_ERROR * LANES + lane]
            d[_ITERATIONS * LANES + lane] = 0.0 if beginning else d[_ITERATIONS * LANES + lane]
        for c in range(size):
            t = s[c * LANES :]
            for lane in range(w):
                beginning = d[_ATTEMPTING * LANES + lane] == 0.0
                predicting = d[_PREDICTING * LANES + lane] != 0.0
                ratio = d[_RATIO * LANES + lane]
                p = _lane_column(t, br, size, lane)
                far = ratio > 20.0
                predicted = _predicted(_powers(ratio), p)
                for k in range(7):
                    row = k * size
                    old = t[(b + row) * LANES + lane]
                    new = 0.0 if far else predicted[k] + (p[k] - t[(er + row) * LANES + lane])
                    value = new if predicting else old
                    t[(b + row) * LANES + lane] = value
                    lanes.select(t, (e + row) * LANES + lane, predicting, 0.0 if far else predicted[k])
                    lanes.select(t, (b_start + row) * LANES + lane, beginning, value)
                    lanes.select(t, (csb + row) * LANES + lane, beginning, 0.0)
                derived = _g_of_b(_lane_column(t, b, size, lane))
                for k in range(7):
                    lanes.select(t, (g + k * size) * LANES + lane, beginning, derived[k])
        for lane in range(w):
            d[_ATTEMPTING * LANES + lane] = 1.0

    return run


def _lane_node(rows: lanes.Rows, node: int, forces: lanes.LaneFunction) -> lanes.LaneFunction:
    """Gauss-Radau node ``node`` (1 .. 7) of an iteration of :func:`~nbody.integrators.ias15._attempt` in every lane: the positions there, the
    accelerations, and the ``g`` and ``b`` they determine (at node 7 also the iteration's error)."""
    (b, _, _, _, g, csb, _), (a0, at, csx, _, xn, _), size, _, _ = _lane_layout(rows)
    x, v = rows.x, rows.v
    hn = float(_H[node])
    k = node - 1  # the g (and b) coefficient this node determines
    inverses = tuple(float(value) for value in _RR_INVERSE[_RR_START[node] : _RR_START[node] + node])
    factors = tuple(float(value) for value in _C[_C_START[node] : _C_START[node] + k]) + (1.0,)
    last = node == 7

    @jit
    def run(s, d, w):
        for lane in range(w):
            coefficients = _node_coefficients(d[DT * LANES + lane], hn)
            for index in range(9):
                d[(_NODE + index) * LANES + lane] = coefficients[index]
            if last:
                d[_MAX_A * LANES + lane] = 0.0
                d[_MAX_DB6 * LANES + lane] = 0.0
        for c in range(size):
            t = s[c * LANES :]
            for lane in range(w):
                coefficients = (
                    d[_NODE * LANES + lane], d[(_NODE + 1) * LANES + lane], d[(_NODE + 2) * LANES + lane],
                    d[(_NODE + 3) * LANES + lane], d[(_NODE + 4) * LANES + lane], d[(_NODE + 5) * LANES + lane],
                    d[(_NODE + 6) * LANES + lane], d[(_NODE + 7) * LANES + lane], d[(_NODE + 8) * LANES + lane],
                )  # fmt: skip
                t[xn * LANES + lane] = _node_position(
                    coefficients, t[x * LANES + lane], t[v * LANES + lane], t[a0 * LANES + lane], t[csx * LANES + lane],
                    _lane_column(t, b, size, lane),
                )  # fmt: skip
        forces(s, d, w)
        for c in range(size):
            t = s[c * LANES :]
            for lane in range(w):
                value = (t[at * LANES + lane] - t[a0 * LANES + lane]) * inverses[0]
                for previous in range(k):
                    value = (value - t[(g + previous * size) * LANES + lane]) * inverses[1 + previous]
                change = value - t[(g + k * size) * LANES + lane]
                t[(g + k * size) * LANES + lane] = value
                for row in range(k + 1):
                    index = (b + row * size) * LANES + lane
                    compensation = (csb + row * size) * LANES + lane
                    t[index], t[compensation] = _compensated(t[index], t[compensation], change * factors[row] if row < k else change)
                if last:
                    d[_MAX_A * LANES + lane] = max(d[_MAX_A * LANES + lane], abs(t[at * LANES + lane]))
                    d[_MAX_DB6 * LANES + lane] = max(d[_MAX_DB6 * LANES + lane], abs(change))
        if last:
            for lane in range(w):
                max_a = d[_MAX_A * LANES + lane]
                d[_ERROR * LANES + lane] = d[_MAX_DB6 * LANES + lane] / max_a if max_a > 0.0 else 0.0

    return run


@jit_inline
def _lane_iteration_begins(s, d, w):
    """The bookkeeping of :func:`~nbody.integrators.ias15._attempt` before an iteration."""
    for lane in range(w):
        d[_LAST_ERROR * LANES + lane] = d[_ERROR * LANES + lane]
        d[_ITERATIONS * LANES + lane] += 1.0


@jit_inline
def _lane_converged(s, d, w):
    """Whether each lane's iterations converged (:func:`~nbody.integrators.ias15._attempt`'s test) into its own row."""
    for lane in range(w):
        converged = _converged(d[_ERROR * LANES + lane], d[_LAST_ERROR * LANES + lane], d[_ITERATIONS * LANES + lane])
        d[_CONVERGED * LANES + lane] = 1.0 if converged else 0.0


def _lane_proposal(rows: lanes.Rows) -> lanes.LaneFunction:
    """Lanes whose iterations converged accept or reject their step as :func:`~nbody.integrators.ias15.step_adaptive` does (the estimate of
    :func:`~nbody.integrators.ias15._proposed_step`): an accepted step is counted in :data:`~nbody.lanes.STEPPED` (and finished by
    :func:`_lane_finish_steps`)."""
    (b, _, _, _, _, _, _), (a0, _, _, _, _, _), size, proposed, last_done = _lane_layout(rows)
    n = rows.n

    @jit
    def run(s, d, w):
        for lane in range(w):
            d[_LARGEST2 * LANES + lane] = 0.0
            d[_TIMESCALE2 * LANES + lane] = np.inf
        for i in range(n):
            t = s[3 * i * LANES :]
            for lane in range(w):
                y2 = 0.0
                for axis in range(3):
                    t2 = _end_acceleration(t[(a0 + axis) * LANES + lane], _lane_column(t, b + axis, size, lane))
                    y2 += t2 * t2
                d[_LARGEST2 * LANES + lane] = max(d[_LARGEST2 * LANES + lane], y2)
        for i in range(n):
            t = s[3 * i * LANES :]
            for lane in range(w):
                a0i = 0.0
                y2 = 0.0
                y3 = 0.0
                y4 = 0.0
                for axis in range(3):
                    column = _lane_column(t, b + axis, size, lane)
                    a0i += t[(a0 + axis) * LANES + lane] ** 2
                    t2 = _end_acceleration(t[(a0 + axis) * LANES + lane], column)
                    t3, t4 = _derivatives(column)
                    y2 += t2 * t2
                    y3 += t3 * t3
                    y4 += t4 * t4
                y2 = max(y2, (ACCELERATION_FLOOR**2) * d[_LARGEST2 * LANES + lane])
                timescale2 = _timescale2(y2, y3, y4)
                if (a0i > 0.0 and math.isfinite(a0i)) and timescale2 > 0.0 and math.isfinite(timescale2):
                    d[_TIMESCALE2 * LANES + lane] = min(d[_TIMESCALE2 * LANES + lane], timescale2)
        for lane in range(w):
            converged = d[_CONVERGED * LANES + lane] != 0.0
            dt = d[DT * LANES + lane]
            dt_new = _estimated_step(d[_TIMESCALE2 * LANES + lane], dt, d[PARAM * LANES + lane])
            rejected = converged and _rejected(dt_new, dt)
            accepted = converged and not rejected
            before = s[proposed * LANES + lane]
            after = _next_proposed(dt_new, dt, before) if accepted else before
            s[proposed * LANES + lane] = dt_new if rejected else after
            s[last_done * LANES + lane] = dt if accepted else s[last_done * LANES + lane]
            d[STEPPED * LANES + lane] = 1.0 if accepted else 0.0

    return run


def _lane_acceptance(rows: lanes.Rows) -> lanes.LaneFunction:
    """Lanes whose iterations converged take their step, as :func:`~nbody.integrators.ias15.step_fixed` does (counted in
    :data:`~nbody.lanes.STEPPED`; finished by :func:`_lane_finish_steps`)."""
    last_done = _lane_layout(rows)[4]

    @jit_inline
    def run(s, d, w):
        for lane in range(w):
            accepted = d[_CONVERGED * LANES + lane] != 0.0
            s[last_done * LANES + lane] = d[DT * LANES + lane] if accepted else s[last_done * LANES + lane]
            d[STEPPED * LANES + lane] = 1.0 if accepted else 0.0

    return run


def _lane_finish_steps(rows: lanes.Rows) -> lanes.LaneFunction:
    """The steps taken in the round finished (:func:`~nbody.integrators.ias15._finish`); every converged attempt's force evaluations counted,
    and lanes whose attempt converged start a new one in the next round."""
    (b, e, br, er, _, _, _), (a0, _, csx, csv, _, end_a), size, _, _ = _lane_layout(rows)
    x, v = rows.x, rows.v
    forces = lanes.accelerations(rows, x, end_a)

    @jit
    def run(s, d, w):
        for lane in range(w):
            converged = d[_CONVERGED * LANES + lane] != 0.0
            spent = 7.0 * d[_ITERATIONS * LANES + lane] + d[STEPPED * LANES + lane]
            d[EVALS * LANES + lane] += spent if converged else 0.0
            d[_ATTEMPTING * LANES + lane] = 0.0 if converged else 1.0
        for c in range(size):
            t = s[c * LANES :]
            for lane in range(w):
                _lane_finish(t, d, lane, b, e, br, er, a0, csx, csv, x, v, size)
        forces(s, d, w)
        for c in range(size):
            t = s[c * LANES :]
            for lane in range(w):
                lanes.select(t, a0 * LANES + lane, d[STEPPED * LANES + lane] != 0.0, t[end_a * LANES + lane])

    return run


@jit_inline
def _lane_column(t, row, size, lane):
    """The seven coefficients of a lane's coordinate whose first is at ``row`` (:func:`~nbody.integrators.ias15._column`)."""
    return (
        t[row * LANES + lane], t[(row + size) * LANES + lane], t[(row + 2 * size) * LANES + lane],
        t[(row + 3 * size) * LANES + lane], t[(row + 4 * size) * LANES + lane], t[(row + 5 * size) * LANES + lane],
        t[(row + 6 * size) * LANES + lane],
    )  # fmt: skip


@jit_inline
def _lane_finish(t, d, lane, b, e, br, er, a0, csx, csv, x, v, size):
    """:func:`~nbody.integrators.ias15._finish` of one coordinate of a lane that accepted its step (but the accelerations)."""
    accepted = d[STEPPED * LANES + lane] != 0.0
    position, position_c, velocity, velocity_c = _finished(
        t[x * LANES + lane], t[csx * LANES + lane], t[v * LANES + lane], t[csv * LANES + lane], t[a0 * LANES + lane],
        _lane_column(t, b, size, lane), d[DT * LANES + lane],
    )  # fmt: skip
    lanes.select(t, x * LANES + lane, accepted, position)
    lanes.select(t, csx * LANES + lane, accepted, position_c)
    lanes.select(t, v * LANES + lane, accepted, velocity)
    lanes.select(t, csv * LANES + lane, accepted, velocity_c)
    for k in range(7):
        lanes.select(t, (br + k * size) * LANES + lane, accepted, t[(b + k * size) * LANES + lane])
        lanes.select(t, (er + k * size) * LANES + lane, accepted, t[(e + k * size) * LANES + lane])


def _lane_handover(rows: lanes.Rows) -> lanes.LaneFunction:
    """A lane in the middle of an attempt gets back the ``b`` it started from: :func:`~nbody.integrators.ias15.step_adaptive` then redoes the
    attempt as the lane did (the other blocks it overwrites, or reads unchanged)."""
    (b, _, _, _, _, _, b_start), _, size, _, _ = _lane_layout(rows)

    @jit_inline
    def run(s, d, w):
        for c in range(size):
            t = s[c * LANES :]
            for lane in range(w):
                attempting = d[_ATTEMPTING * LANES + lane] != 0.0
                for k in range(7):
                    lanes.select(t, (b + k * size) * LANES + lane, attempting, t[(b_start + k * size) * LANES + lane])

    return run


def _lane_step(n: int, work_size: int, adaptive: bool) -> lanes.LaneStep:
    """The lane step of :func:`~nbody.integrators.ias15.step_adaptive` or :func:`~nbody.integrators.ias15.step_fixed`: a round is one iteration of every lane (the module's docstring)."""
    rows = lanes.Rows(n, work_size, 8 * 3 * n)
    _, (_, at, _, _, xn, _), _, _, _ = _lane_layout(rows)
    forces = lanes.called(lanes.accelerations(rows, xn, at))  # one compiled function for the seven nodes
    nodes = [_lane_node(rows, node, forces) for node in range(1, 8)]
    decide = _lane_proposal(rows) if adaptive else _lane_acceptance(rows)
    step = lanes.chain([_lane_start(rows, adaptive), _lane_iteration_begins, *nodes, _lane_converged, decide, _lane_finish_steps(rows)])
    return lanes.LaneStep(rows, step, _lane_handover(rows))


def lane_step_adaptive(n: int, work_size: int) -> lanes.LaneStep:
    """:func:`~nbody.integrators.ias15.step_adaptive` of every lane (:mod:`nbody.lanes`) of ``n`` bodies and a work array of ``work_size``."""
    return _lane_step(n, work_size, True)


def lane_step_fixed(n: int, work_size: int) -> lanes.LaneStep:
    """:func:`~nbody.integrators.ias15.step_fixed` of every lane (:mod:`nbody.lanes`) of ``n`` bodies and a work array of ``work_size``."""
    return _lane_step(n, work_size, False)
