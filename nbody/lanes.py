"""Systems side by side for lock-step integration: a row per coordinate, a lane (column) per system.

:data:`LANES` systems of ``N`` bodies share two float64 arrays of rows of :data:`LANES` values, element ``row *
LANES + lane`` being value ``row`` of the system in ``lane``: ``s`` (:class:`Rows`) holds the positions (``3 i + k``
from :attr:`Rows.x`), the velocities, the masses, ``eps2``, the integrator's work array (row ``w`` from
:attr:`Rows.work` is element ``w`` of the system's own work array) and rows of the lane step's own (from
:attr:`Rows.own`); ``d`` holds each lane's scalars: the step parameter (:data:`PARAM`), the longest step allowed
(:data:`DT_MAX`), the step taken (:data:`DT`), a time scale (:data:`SCALE`), a sum (:data:`TOTAL`), the time
(:data:`T`), the target time (:data:`TARGET`), how the last step ended (:data:`STOP`), the steps taken
(:data:`STEPS`), the force evaluations (:data:`EVALS`), whether the lane took a step in the last round
(:data:`STEPPED`), and from :data:`OWN` on scalars of the lane step's own.

A lane step (:class:`LaneStep`) advances every lane by one round: a whole step for most integrators, one
predictor-corrector iteration for IAS15 (a lane then takes a step in the rounds in which its iterations converge).

The functions here and the lane steps of the integrators (``lane_*`` in their modules) are built for one ``N``, so
that the offsets of the rows are constants of the compiled code. Each computation is a loop over the lanes inside
a loop over the rows of ``s`` (coordinates, on views of ``s`` from the row on) or over the pairs of bodies,
unrolled at compile time into one function (:func:`pair_chain`); the loads and stores of one lane loop then lie at constant distances from
one another in ``s``, and LLVM's loop vectoriser turns it into SIMD code with at most one run-time check (``s``
against ``d``). Body indices known only at run time would need a check for every pair of rows, and the vectoriser
gives up (Numba leaves LLVM's SLP vectoriser off). Every lane computes exactly what the integrator's own step
computes, in the same order: a system stepped in a lane is bit for bit the system stepped alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from nbody._jit import jit, jit_inline
from nbody.forces import pair_acceleration, pair_acceleration_jerk, pair_collision_time, pair_free_fall_time

#: Systems stepped together: two AVX-512 registers of doubles, four AVX2 ones. (LLVM vectorises a loop of a known trip
#: count below 16 only when it needs no run-time checks: with 8 lanes the loops touching ``d`` stayed scalar.)
LANES = 16


@dataclass(frozen=True)
class Rows:
    """The row offsets of the lane array for ``n`` bodies and a work array of ``work_size`` elements."""

    n: int
    work_size: int
    #: Rows of the lane step's own after the work array (not part of the system's state).
    own_size: int = 0

    @property
    def x(self) -> int:
        """First position row (body ``i``, component ``k`` at ``x + 3 i + k``)."""
        return 0

    @property
    def v(self) -> int:
        """First velocity row."""
        return 3 * self.n

    @property
    def m(self) -> int:
        """First mass row (body ``i`` at ``m + i``)."""
        return 6 * self.n

    @property
    def eps2(self) -> int:
        """The softening squared."""
        return 7 * self.n

    @property
    def work(self) -> int:
        """First row of the work array."""
        return self.eps2 + 1

    @property
    def own(self) -> int:
        """First row of the lane step's own."""
        return self.work + self.work_size

    @property
    def size(self) -> int:
        """Rows in all."""
        return self.own + self.own_size


#: The rows of a lane's scalars ``d``: the step parameter, the longest step allowed (the time left to the target),
#: the step taken, a time scale, a sum, the time, the target time, how the last step ended (:func:`advance_times`),
#: the steps taken and the force evaluations since the system entered the lane, and whether the last round took a step.
PARAM, DT_MAX, DT, SCALE, TOTAL, T, TARGET, STOP, STEPS, EVALS, STEPPED = range(11)
#: The first row of ``d`` that a lane step keeps its own scalars in (zero when a system enters a lane).
OWN = 11
#: Rows of ``d``: :data:`OWN` and up to 24 of a lane step's own.
SCALARS = OWN + 24
#: The codes of row :data:`STOP`: going on; ended by a step that did not move time, by a non-finite state, at the target.
GOING, STALLED, BROKEN, ARRIVED = 0.0, 1.0, 2.0, 3.0


LaneFunction = Callable[..., Any]


@dataclass(frozen=True)
class LaneStep:
    """A lane step built for one :class:`Rows`: ``step(s, d, w)`` advances every lane by one round (writing
    :data:`STEPPED` and, where it took a step, :data:`DT`, and adding to :data:`EVALS`); ``handover(s, d, w)`` puts
    every lane into the state from which the integrator's own step function goes on exactly as the lane would have
    (before systems leave their lanes in the middle of a step)."""

    rows: Rows
    step: LaneFunction
    handover: LaneFunction


def chain(functions: list[LaneFunction]) -> LaneFunction:
    """``run(s, d, w)`` calling each of ``functions`` in turn with ``(s, d, w)``: a loop unrolled at compile time.

    ``run`` is written out as source, one call per line, and compiled; Numba inlines each call into it once. (A
    chain of nested two-call functions made Numba copy the code of the rest of the chain at every link: compiling a
    Hermite lane step took 7, 17 and 100 s for 3, 4 and 6 bodies.)
    """
    names = [f"call_{index}" for index in range(len(functions))]
    source = "def run(s, d, w):\n" + "".join(f"    {name}(s, d, w)\n" for name in names) + "    return None\n"
    namespace: dict[str, Any] = dict(zip(names, functions, strict=True))
    exec(source, namespace)  # the source is the lines above, made of these names only
    return numba.njit(error_model="numpy", inline="always")(namespace["run"])


@jit_inline
def select(t, index, take, value):
    """``t[index] = value`` where ``take`` (a masked store: the same code for every lane)."""
    t[index] = value if take else t[index]


def called(function: LaneFunction) -> LaneFunction:
    """``function`` compiled once as a function of its own, not inlined into each caller (a force evaluation that a
    lane step calls at several stages or nodes)."""

    @jit
    def run(s, d, w):
        function(s, d, w)

    return run


def pair_chain(n: int, pair: Callable[[int, int], LaneFunction]) -> LaneFunction:
    """:func:`chain` of ``pair(i, j)`` for every pair ``i < j`` of ``n`` bodies in the order of the integrators' pair
    loops, each with ``i, j`` constants of the compiled code."""
    return chain([pair(i, j) for i in range(n) for j in range(i + 1, n)])


@jit_inline
def _difference(s, row, i, j, lane):
    """Coordinates ``row + 3 j + k`` minus ``row + 3 i + k`` (``k = 0, 1, 2``) of ``lane``: a pair's separation."""
    return (
        s[(row + 3 * j) * LANES + lane] - s[(row + 3 * i) * LANES + lane],
        s[(row + 3 * j + 1) * LANES + lane] - s[(row + 3 * i + 1) * LANES + lane],
        s[(row + 3 * j + 2) * LANES + lane] - s[(row + 3 * i + 2) * LANES + lane],
    )


@jit_inline
def _exchange(s, row, i, j, lane, fx, fy, fz, gx, gy, gz):
    """Add ``(fx, fy, fz)`` to body ``i``'s three rows from ``row`` and take ``(gx, gy, gz)`` from body ``j``'s."""
    s[(row + 3 * i) * LANES + lane] += fx
    s[(row + 3 * i + 1) * LANES + lane] += fy
    s[(row + 3 * i + 2) * LANES + lane] += fz
    s[(row + 3 * j) * LANES + lane] -= gx
    s[(row + 3 * j + 1) * LANES + lane] -= gy
    s[(row + 3 * j + 2) * LANES + lane] -= gz


def _zeroed(n: int, first: int, second: int, pairs: LaneFunction) -> LaneFunction:
    """``pairs`` after zeroing the ``3 n`` rows from ``first`` and from ``second``."""

    @jit_inline
    def run(s, d, w):
        for row in range(3 * n):
            t = s[row * LANES :]  # a view: constant offsets in the lane loop
            for lane in range(w):
                t[first * LANES + lane] = 0.0
                t[second * LANES + lane] = 0.0
        pairs(s, d, w)

    return run


def accelerations(rows: Rows, x: int, a: int) -> LaneFunction:
    """``run(s, d, w)``: :func:`nbody.forces.accelerations` of the positions at row ``x`` into the rows at ``a``
    (uses the rows at ``a`` twice: zeroed once more costs nothing)."""
    m, eps2 = rows.m, rows.eps2

    def pair(i: int, j: int) -> LaneFunction:
        @jit_inline
        def run(s, d, w):
            for lane in range(w):
                dx, dy, dz = _difference(s, x, i, j, lane)
                inv_r3 = pair_acceleration(dx, dy, dz, s[eps2 * LANES + lane])
                mj = s[(m + j) * LANES + lane] * inv_r3
                mi = s[(m + i) * LANES + lane] * inv_r3
                _exchange(s, a, i, j, lane, mj * dx, mj * dy, mj * dz, mi * dx, mi * dy, mi * dz)

        return run

    return _zeroed(rows.n, a, a, pair_chain(rows.n, pair))


def accelerations_jerks(rows: Rows, x: int, v: int, a: int, jerk: int) -> LaneFunction:
    """``run(s, d, w)``: :func:`nbody.forces.accelerations_jerks` of the rows at ``x, v`` into the rows at ``a, jerk``."""
    m, eps2 = rows.m, rows.eps2

    def pair(i: int, j: int) -> LaneFunction:
        @jit_inline
        def run(s, d, w):
            for lane in range(w):
                dx, dy, dz = _difference(s, x, i, j, lane)
                dvx, dvy, dvz = _difference(s, v, i, j, lane)
                inv_r3, jx, jy, jz = pair_acceleration_jerk(dx, dy, dz, dvx, dvy, dvz, s[eps2 * LANES + lane])
                mj = s[(m + j) * LANES + lane]
                mi = s[(m + i) * LANES + lane]
                _exchange(
                    s,
                    a,
                    i,
                    j,
                    lane,
                    mj * dx * inv_r3,
                    mj * dy * inv_r3,
                    mj * dz * inv_r3,
                    mi * dx * inv_r3,
                    mi * dy * inv_r3,
                    mi * dz * inv_r3,
                )
                _exchange(s, jerk, i, j, lane, mj * jx, mj * jy, mj * jz, mi * jx, mi * jy, mi * jz)

        return run

    return _zeroed(rows.n, a, jerk, pair_chain(rows.n, pair))


def collision_time(rows: Rows) -> LaneFunction:
    """``run(s, d, w)``: :func:`nbody.forces.collision_time` of each lane into ``d``'s row :data:`SCALE`."""
    x, v, m, eps2 = rows.x, rows.v, rows.m, rows.eps2

    def pair(i: int, j: int) -> LaneFunction:
        @jit_inline
        def run(s, d, w):
            for lane in range(w):
                dx, dy, dz = _difference(s, x, i, j, lane)
                dvx, dvy, dvz = _difference(s, v, i, j, lane)
                d[SCALE * LANES + lane] = pair_collision_time(
                    d[SCALE * LANES + lane], dx, dy, dz, dvx**2 + dvy**2 + dvz**2, s[eps2 * LANES + lane],
                    s[(m + i) * LANES + lane] + s[(m + j) * LANES + lane],
                )  # fmt: skip

        return run

    return _minimum(pair_chain(rows.n, pair))


def free_fall_time(rows: Rows) -> LaneFunction:
    """``run(s, d, w)``: :func:`nbody.forces.free_fall_time` of each lane into ``d``'s row :data:`SCALE`."""
    x, m, eps2 = rows.x, rows.m, rows.eps2

    def pair(i: int, j: int) -> LaneFunction:
        @jit_inline
        def run(s, d, w):
            for lane in range(w):
                dx, dy, dz = _difference(s, x, i, j, lane)
                d[SCALE * LANES + lane] = pair_free_fall_time(
                    d[SCALE * LANES + lane], dx**2 + dy**2 + dz**2 + s[eps2 * LANES + lane],
                    s[(m + i) * LANES + lane] + s[(m + j) * LANES + lane],
                )  # fmt: skip

        return run

    return _minimum(pair_chain(rows.n, pair))


def _minimum(pairs: LaneFunction) -> LaneFunction:
    """``pairs`` started from ``inf`` in row :data:`SCALE`, and the square root of their minimum (the pair terms of
    :mod:`nbody.forces` are squared)."""

    @jit_inline
    def run(s, d, w):
        for lane in range(w):
            d[SCALE * LANES + lane] = np.inf
        pairs(s, d, w)
        for lane in range(w):
            d[SCALE * LANES + lane] = math.sqrt(d[SCALE * LANES + lane])

    return run


def finite_sums(rows: Rows) -> LaneFunction:
    """``run(s, d, w)``: the sum of every position and velocity of each lane into ``d``'s row :data:`TOTAL`, in the
    order of :func:`nbody.time_loop._finite` (a NaN or inf makes it non-finite)."""
    x, v, n = rows.x, rows.v, rows.n

    @jit_inline
    def run(s, d, w):
        for lane in range(w):
            d[TOTAL * LANES + lane] = 0.0
        for row in range(3 * n):
            t = s[row * LANES :]
            for lane in range(w):
                d[TOTAL * LANES + lane] += t[x * LANES + lane] + t[v * LANES + lane]

    return run


@jit_inline
def advance_times(s, d, w):
    """The bookkeeping of :func:`nbody.time_loop.advance` after a round, for each lane that took a step in it (row
    :data:`STEPPED`; the others go on as they are), without the step budget: the steps (row :data:`STEPS`), the time
    (:data:`T`), the time left (:data:`DT_MAX`) and how the lane ended (:data:`STOP`): :data:`STALLED` when the step
    did not move time (the time stays), :data:`BROKEN` when the sum of :func:`finite_sums` is not finite,
    :data:`ARRIVED` at the target, else :data:`GOING`."""
    for lane in range(w):
        stepped = d[STEPPED * LANES + lane] != 0.0
        dt = d[DT * LANES + lane]
        time = d[T * LANES + lane]
        target = d[TARGET * LANES + lane]
        moved = (dt > 0.0) & (time + dt != time)
        reached = target if dt >= d[DT_MAX * LANES + lane] else time + dt
        now = reached if moved & stepped else time
        d[T * LANES + lane] = now
        d[DT_MAX * LANES + lane] = target - now
        d[STEPS * LANES + lane] += 1.0 if stepped else 0.0
        finite = math.isfinite(d[TOTAL * LANES + lane])
        stop = STALLED if not moved else BROKEN if not finite else GOING if now < target else ARRIVED
        d[STOP * LANES + lane] = stop if stepped else GOING


def whole_lane_step(rows: Rows, size: LaneFunction, advance: LaneFunction) -> LaneStep:
    """The lane step ``advance`` by the step that ``size`` writes into row :data:`DT` (at most :data:`DT_MAX`):
    every round a whole step of one force evaluation."""

    @jit_inline
    def run(s, d, w):
        size(s, d, w)
        advance(s, d, w)
        _stepped(d, w)

    return LaneStep(rows, run, no_handover)


def scaled_lane_step(rows: Rows, scale: LaneFunction, advance: LaneFunction) -> LaneStep:
    """:func:`whole_lane_step` by ``min(parameter * time scale, dt_max)``, the time scale written by ``scale`` (as
    the integrators' adaptive criteria)."""

    @jit_inline
    def size(s, d, w):
        scale(s, d, w)
        for lane in range(w):
            d[DT * LANES + lane] = min(d[PARAM * LANES + lane] * d[SCALE * LANES + lane], d[DT_MAX * LANES + lane])

    return whole_lane_step(rows, size, advance)


def fixed_lane_step(rows: Rows, advance: LaneFunction) -> LaneStep:
    """:func:`whole_lane_step` by ``min(dt, dt_max)`` (``dt`` the step parameter)."""

    @jit_inline
    def size(s, d, w):
        for lane in range(w):
            d[DT * LANES + lane] = min(d[PARAM * LANES + lane], d[DT_MAX * LANES + lane])

    return whole_lane_step(rows, size, advance)


@jit_inline
def _stepped(d, w):
    """Every lane took a step of one force evaluation."""
    for lane in range(w):
        d[STEPPED * LANES + lane] = 1.0
        d[EVALS * LANES + lane] += 1.0


@jit_inline
def no_handover(s, d, w):
    """The handover of a lane step whose lanes' rows always hold the state at the end of their last step (a lane
    step whose rounds are whole steps): nothing to do."""
