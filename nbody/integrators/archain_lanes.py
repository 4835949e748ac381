"""AR-CHAIN's lane steps (:mod:`nbody.lanes`): sixteen systems' :func:`~nbody.integrators.archain.step_adaptive` or
:func:`~nbody.integrators.archain.step_fixed` side by side, bit for bit the steps alone.

A round is one leapfrog substep of every lane in a column of the extrapolation (a kick and a drift of the
logarithmic-Hamiltonian leapfrog), in SIMD across the lanes on the links in chain order (each lane's masses in its
own chain order). Everything else is the scalar step's own code run lane by lane: when a lane begins a step,
:func:`~nbody.integrators.archain._prepare` (the chain rebuilt or reordered, the landing on ``dt_max`` aimed); when
it starts a column, the leapfrog's first half drift (:func:`~nbody.integrators.archain._leapfrog_start`); when it
finishes one, :func:`~nbody.integrators.archain._extrapolate` (the Aitken-Neville table, the error estimate, the
step-size control); when an attempt is decided, :func:`~nbody.integrators.archain._settle` (rejection, the root
search of the landing, or the step taken). Columns have 1, 2, 3, 4, 6, 8 ... substeps and lanes converge at
different columns, so they take their steps in different rounds.

That scalar code runs on a contiguous copy of each lane's work array and ``x, v, m`` (a block of the lane step's own
rows, copied in when a system enters the lane and out to the lane's rows whenever it takes a step); the lane's rows
thus hold its state at the end of its last step, from which the step function redoes a step under way exactly: the
handover has nothing to do.
"""

import math
from typing import Any

import numba

from nbody import lanes
from nbody._jit import borrowed, c_view, jit, jit_inline
from nbody.integrators.archain import (
    _BINDING,
    _COLUMNS_NOW,
    _H,
    _MAX_ATTEMPTS,
    _STEP,
    _U0,
    SUBSTEPS,
    _alone,
    _broken_down,
    _extrapolate,
    _finite,
    _fixed_attempt,
    _leapfrog_start,
    _prepare,
    _settle,
    _state_length,
    _views,
)
from nbody.lanes import DT, DT_MAX, EVALS, LANES, PARAM, STEPPED

#: The rows of ``d`` each lane keeps from :data:`nbody.lanes.OWN` on: where it is (:data:`_FRESH`, :data:`_BEGIN`,
#: :data:`_IN_COLUMN`), the column, the substeps done in it and its substeps, the substep's fictitious length, whether
#: its leapfrog broke down, the force evaluations and attempts of the step under way, and the binding energy.
_PHASE, _K, _J, _S, _HS, _FAILED, _SPENT, _ATTEMPTS, _BIND = range(lanes.OWN, lanes.OWN + 9)
#: A system that just entered its lane (its block not yet copied in), one about to begin a step, one in a column.
_FRESH, _BEGIN, _IN_COLUMN = 0.0, 1.0, 2.0


class _Layout:
    """Where a lane step's rows are: each lane's block (its work array, ``x``, ``v``, ``m``, contiguous: ``block``
    values from element ``base + lane * block`` of ``s``, in the first ``block`` rows of the lane step's own), then
    rows in lanes: the leapfrog's state ``[X, W, t]``, the masses in chain order, the accelerations and the centred
    chain velocities."""

    def __init__(self, n: int, work_size: int) -> None:
        self.n = n
        self.work_size = work_size
        self.length = _state_length(n)
        self.block = work_size + 7 * n
        rows = lanes.Rows(n, work_size, self.block + self.length + 7 * n)
        self.rows = rows
        self.base = rows.own * LANES
        self.y = rows.own + self.block
        self.chain_m = self.y + self.length
        self.a = self.chain_m + n
        self.u = self.a + 3 * n


def _lane_block(layout: _Layout) -> lanes.LaneFunction:
    """``block(s, lane)``: the lane's work array, ``x``, ``v`` and ``m`` (views of its block)."""
    base, size, n, work_size = layout.base, layout.block, layout.n, layout.work_size

    @jit_inline
    def block(s, lane):
        start = base + lane * size
        work = s[start : start + work_size]
        start += work_size
        x = c_view(s[start : start + 3 * n], (n, 3))
        v = c_view(s[start + 3 * n : start + 6 * n], (n, 3))
        m = s[start + 6 * n : start + 7 * n]
        return work, x, v, m

    return block


def _lane_finish(layout: _Layout, block: lanes.LaneFunction) -> lanes.LaneFunction:
    """``finish(s, d, lane, taken)``: the lane's step is over (``taken`` the time it took, 0 when no attempt
    succeeded): counted, and its block copied out to its rows."""
    n, rows = layout.n, layout.rows
    x_row, v_row, work_row, work_size = rows.x, rows.v, rows.work, rows.work_size

    @jit_inline
    def finish(s, d, lane, taken):
        work, x, v, m = block(s, lane)
        d[DT * LANES + lane] = taken
        d[STEPPED * LANES + lane] = 1.0
        d[EVALS * LANES + lane] += d[_SPENT * LANES + lane]
        d[_PHASE * LANES + lane] = _BEGIN
        for index in range(work_size):
            s[(work_row + index) * LANES + lane] = work[index]
        for i in range(n):
            for k in range(3):
                s[(x_row + 3 * i + k) * LANES + lane] = x[i, k]
                s[(v_row + 3 * i + k) * LANES + lane] = v[i, k]

    return finish


def _lane_attempts(
    layout: _Layout, block: lanes.LaneFunction, finish: lanes.LaneFunction, adaptive: bool
) -> tuple[lanes.LaneFunction, lanes.LaneFunction]:
    """``decide(s, d, lane, accepted, h_next, columns_next, result)``: an attempt of the lane's step is decided
    (:func:`~nbody.integrators.archain._settle`); returns whether the step is over (taken, or out of attempts).
    ``open_column(s, d, lane, k)``: column ``k`` of the attempt under way starts with the leapfrog's first half drift;
    where that breaks down, the attempt is decided and the next one starts, until a column is open or the step over."""
    n, length, y = layout.n, layout.length, layout.y

    @jit_inline
    def decide(s, d, lane, accepted, h_next, columns_next, result):
        work, x, v, m = block(s, lane)
        taken, dt = _settle(x, v, m, accepted, h_next, columns_next, result, d[DT_MAX * LANES + lane], work)
        d[_ATTEMPTS * LANES + lane] += 1.0
        if taken or d[_ATTEMPTS * LANES + lane] >= _MAX_ATTEMPTS:
            finish(s, d, lane, dt)
            return True
        return False

    @jit_inline
    def open_column(s, d, lane, k):
        work, x, v, m = block(s, lane)
        order, state, centre, output, table, previous, current, a, q, u = _views(work, n)
        while True:
            h = work[_H]
            if _leapfrog_start(m, order, state, previous, h, SUBSTEPS[k], work[_BINDING], n, u):
                d[_PHASE * LANES + lane] = _IN_COLUMN
                d[_K * LANES + lane] = k
                d[_J * LANES + lane] = 0.0
                d[_S * LANES + lane] = SUBSTEPS[k]
                d[_HS * LANES + lane] = h / SUBSTEPS[k]
                d[_FAILED * LANES + lane] = 0.0
                for index in range(length):
                    s[(y + index) * LANES + lane] = previous[index]
                return
            d[_SPENT * LANES + lane] += SUBSTEPS[k]
            columns = int(work[_COLUMNS_NOW])
            accepted, h_next, columns_next = _broken_down(h, columns, adaptive)
            if decide(s, d, lane, accepted, h_next, columns_next, previous):
                return
            k = 0

    return decide, open_column


def _lane_begin(
    layout: _Layout, block: lanes.LaneFunction, finish: lanes.LaneFunction, open_column: lanes.LaneFunction, adaptive: bool
) -> lanes.LaneFunction:
    """Lanes about to begin a step (after a step, or, with their block copied in, after entering the lane) prepare
    it and open the first column of its first attempt; lanes of one body take their step whole."""
    n, rows = layout.n, layout.rows
    x_row, v_row, m_row, eps2_row, work_row, work_size = rows.x, rows.v, rows.m, rows.eps2, rows.work, rows.work_size
    chain_m = layout.chain_m

    @jit
    def run(s, d, w):
        s = borrowed(s)  # (the views of each lane's block then cost no reference counting)
        for lane in range(w):
            d[STEPPED * LANES + lane] = 0.0
            phase = d[_PHASE * LANES + lane]
            if not d[DT_MAX * LANES + lane] > 0.0 or phase == _IN_COLUMN:  # (no system in an idle lane: its DT_MAX is 0)
                continue
            work, x, v, m = block(s, lane)
            if phase == _FRESH:
                for index in range(work_size):
                    work[index] = s[(work_row + index) * LANES + lane]
                for i in range(n):
                    m[i] = s[(m_row + i) * LANES + lane]
                    for k in range(3):
                        x[i, k] = s[(x_row + 3 * i + k) * LANES + lane]
                        v[i, k] = s[(v_row + 3 * i + k) * LANES + lane]
            dt_max = d[DT_MAX * LANES + lane]
            if n == 1:
                taken, d[_SPENT * LANES + lane] = _alone(x, v, dt_max)
                finish(s, d, lane, taken)
                continue
            h = work[_STEP] if adaptive else d[PARAM * LANES + lane] * work[_U0]
            d[_SPENT * LANES + lane] = _prepare(x, v, m, s[eps2_row * LANES + lane], h, dt_max, work)
            d[_ATTEMPTS * LANES + lane] = 0.0
            order = _views(work, n)[0]
            for k in range(n):
                s[(chain_m + k) * LANES + lane] = m[int(order[k])]
            d[_BIND * LANES + lane] = work[_BINDING]
            open_column(s, d, lane, 0)

    return run


def _substep_source(layout: _Layout) -> str:
    """The source of ``run(s, d, w)``: a kick and a drift of every lane in a column, one loop over the lanes whose body
    is written out for the ``n`` bodies (the compiler vectorises a loop over the lanes only when each access is at a
    constant row: loops over bodies inside it keep it scalar). Each operation is the scalar step's own, in its order:
    :func:`~nbody.integrators.archain._force_function` and :func:`~nbody.integrators.archain._kick`, then
    :func:`~nbody.integrators.archain._kinetic` and :func:`~nbody.integrators.archain._drift` (half a substep at the
    column's end; a drift whose ``T + B`` is not positive leaves the state and marks the breakdown)."""
    n = layout.n
    links = n - 1
    y, chain_m, a, u, eps2 = layout.y, layout.chain_m, layout.a, layout.u, layout.rows.eps2

    def at(row: int) -> str:
        return f"s[{row * LANES} + lane]"

    def own(row: int) -> str:
        return f"d[{row * LANES} + lane]"

    axes = "xyz"
    lines = ["def run(s, d, w):", "    for lane in range(w):"]
    body = [f"in_column = {own(_PHASE)} == {_IN_COLUMN}", f"hs = {own(_HS)}", f"eps2 = {at(eps2)}"]
    body += [f"m{k} = {at(chain_m + k)}" for k in range(n)]
    body += [f"X{k}{c} = {at(y + 3 * k + i)}" for k in range(links) for i, c in enumerate(axes)]
    body += [f"W{k}{c} = {at(y + 3 * links + 3 * k + i)}" for k in range(links) for i, c in enumerate(axes)]
    body += [f"a{k}{c} = 0.0" for k in range(n) for c in axes] + ["potential = 0.0"]
    for i in range(n - 1):
        body += [f"r{c} = 0.0" for c in axes]
        for j in range(i + 1, n):
            body += [f"r{c} += X{j - 1}{c}" for c in axes]
            body += [
                "r2 = rx * rx + ry * ry + rz * rz + eps2",
                "inv_r = 1.0 / math.sqrt(r2)",
                "inv_r3 = inv_r * inv_r * inv_r",
                f"potential += m{i} * m{j} * inv_r",
            ]
            body += [f"a{i}{c} += m{j} * r{c} * inv_r3" for c in axes] + [f"a{j}{c} -= m{i} * r{c} * inv_r3" for c in axes]
    body += [f"{at(a + 3 * k + i)} = a{k}{c}" for k in range(n) for i, c in enumerate(axes)]
    body += ["dt = hs / potential"]
    body += [f"W{k}{c} = W{k}{c} + dt * (a{k + 1}{c} - a{k}{c}) if in_column else W{k}{c}" for k in range(links) for c in axes]
    body += [f"{at(y + 3 * links + 3 * k + i)} = W{k}{c}" for k in range(links) for i, c in enumerate(axes)]
    body += [f"u0{c} = 0.0" for c in axes]
    body += [f"u{k + 1}{c} = u{k}{c} + W{k}{c}" for k in range(links) for c in axes]
    body += ["total = 0.0"] + [f"mean_{c} = 0.0" for c in axes]
    for k in range(n):
        body += [f"mk = m{k}", "total += mk"] + [f"mean_{c} += mk * u{k}{c}" for c in axes]
    body += [f"u{k}{c} -= mean_{c} / total" for k in range(n) for c in axes]
    body += [f"{at(u + 3 * k + i)} = u{k}{c}" for k in range(n) for i, c in enumerate(axes)]
    body += ["energy = 0.0"] + [f"energy += 0.5 * m{k} * (u{k}x ** 2 + u{k}y ** 2 + u{k}z ** 2)" for k in range(n)]
    body += [
        f"rate = energy + {own(_BIND)}",
        f"ds = hs if {own(_J)} < {own(_S)} - 1.0 else 0.5 * hs",
        "moving = in_column and rate > 0.0",
        "dt = ds / rate",
    ]
    body += [f"{at(y + 3 * k + i)} = X{k}{c} + dt * W{k}{c} if moving else X{k}{c}" for k in range(links) for i, c in enumerate(axes)]
    body += [
        f"time = {at(y + 6 * links)}",
        f"{at(y + 6 * links)} = time + dt if moving else time",
        f"{own(_FAILED)} = 1.0 if in_column and not rate > 0.0 else 0.0",
        f"{own(_J)} += 1.0",
    ]
    return "\n".join(lines + ["        " + line for line in body]) + "\n"


def _lane_substep(layout: _Layout) -> lanes.LaneFunction:
    """A kick and a drift of every lane in a column (:func:`_substep_source`), compiled."""
    namespace: dict[str, Any] = {"math": math}
    exec(_substep_source(layout), namespace)  # the source is written above from the layout's row numbers
    return numba.njit(error_model="numpy")(namespace["run"])


def _lane_columns_end(
    layout: _Layout, block: lanes.LaneFunction, decide: lanes.LaneFunction, open_column: lanes.LaneFunction, adaptive: bool
) -> lanes.LaneFunction:
    """Lanes whose column ended in the round (its substeps done, or its leapfrog broken down) copy its result into
    their block and go on as :func:`~nbody.integrators.archain._extrapolated_step` and
    :func:`~nbody.integrators.archain._advance` do: the next column, or the attempt decided and settled (the next
    attempt, or the step over)."""
    n, length = layout.n, layout.length
    y, a, u = layout.y, layout.a, layout.u

    @jit
    def run(s, d, w):
        s = borrowed(s)
        for lane in range(w):
            if not d[DT_MAX * LANES + lane] > 0.0 or d[_PHASE * LANES + lane] != _IN_COLUMN:
                continue
            failed = d[_FAILED * LANES + lane] != 0.0
            if not (failed or d[_J * LANES + lane] == d[_S * LANES + lane]):
                continue
            work, x, v, m = block(s, lane)
            order, state, centre, output, table, previous, current, acceleration, q, velocity = _views(work, n)
            for index in range(length):
                previous[index] = s[(y + index) * LANES + lane]
            for i in range(n):
                for k in range(3):
                    acceleration[i, k] = s[(a + 3 * i + k) * LANES + lane]
                    velocity[i, k] = s[(u + 3 * i + k) * LANES + lane]
            k = int(d[_K * LANES + lane])
            h = work[_H]
            columns = int(work[_COLUMNS_NOW])
            d[_SPENT * LANES + lane] += SUBSTEPS[k]
            broken = failed or not _finite(previous)
            if not adaptive:
                accepted, h_next, columns_next = _fixed_attempt(not broken, h, columns)
            elif broken:
                accepted, h_next, columns_next = _broken_down(h, columns, True)
            else:
                done, accepted, h_next, columns_next = _extrapolate(m, order, d[PARAM * LANES + lane], h, k, columns, work)
                if not done:
                    open_column(s, d, lane, k + 1)
                    continue
            if not decide(s, d, lane, accepted, h_next, columns_next, table[max(accepted - 1, 0)] if adaptive else previous):
                open_column(s, d, lane, 0)

    return run


def _lane_step(n: int, work_size: int, adaptive: bool) -> lanes.LaneStep:
    """The lane step of :func:`~nbody.integrators.archain.step_adaptive` or
    :func:`~nbody.integrators.archain.step_fixed`: a round is one leapfrog substep of every lane (the module's
    docstring)."""
    layout = _Layout(n, work_size)
    block = _lane_block(layout)
    finish = _lane_finish(layout, block)
    decide, open_column = _lane_attempts(layout, block, finish, adaptive)
    begin = _lane_begin(layout, block, finish, open_column, adaptive)
    step = lanes.chain([begin, _lane_substep(layout), _lane_columns_end(layout, block, decide, open_column, adaptive)])
    return lanes.LaneStep(layout.rows, step, lanes.no_handover)


def lane_step_adaptive(n: int, work_size: int) -> lanes.LaneStep:
    """:func:`~nbody.integrators.archain.step_adaptive` of every lane (:mod:`nbody.lanes`) of ``n`` bodies and a work
    array of ``work_size``."""
    return _lane_step(n, work_size, True)


def lane_step_fixed(n: int, work_size: int) -> lanes.LaneStep:
    """:func:`~nbody.integrators.archain.step_fixed` of every lane (:mod:`nbody.lanes`) of ``n`` bodies and a work
    array of ``work_size``."""
    return _lane_step(n, work_size, False)
