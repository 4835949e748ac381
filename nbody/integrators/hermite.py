"""Fourth-order Hermite predictor-corrector with a shared time step (Makino & Aarseth 1992, PASJ 44, 141).

One step (PEC): predict ``x, v`` from ``a, j``; evaluate ``a1, j1`` at the prediction; build the
second and third derivatives of the acceleration from the Hermite interpolant,

    a2 = (-6 (a0 - a1) - dt (4 j0 + 2 j1)) / dt^2,    a3 = (12 (a0 - a1) + 6 dt (j0 + j1)) / dt^3,

and correct ``x += a2 dt^4 / 24 + a3 dt^5 / 120``, ``v += a2 dt^3 / 6 + a3 dt^4 / 24``.
One force-and-jerk evaluation per step.

Step criteria (parameter ``eta``):

- Aarseth: ``dt = min_i sqrt(eta (|a||a2| + |j|^2) / (|j||a3| + |a2|^2))`` with the derivatives at
  the end of the previous step (the first step uses ``eta * min_i |a_i| / |j_i|`` over the bodies
  with non-zero acceleration, and at most ``eta`` times the collision time below);
- collision time (AMUSE's Hermite): ``dt = eta * min over pairs (r / v, sqrt(r^3 / (m_i + m_j)))``.

Work array: ``a, j, a2 h^2, a3 h^3, x_p, v_p, a_1, j_1`` (each N x 3), then the last step ``h`` (0 before the
first step: ``a2, a3`` not known yet).
"""

import math

import numpy as np

from nbody import lanes
from nbody._jit import c_view, jit, jit_inline
from nbody.forces import accelerations_jerks, collision_time
from nbody.lanes import DT, DT_MAX, LANES, OWN, PARAM, SCALE

_BLOCKS = 8
_SIXTH = 1.0 / 6.0
_TWENTY_FOURTH = 1.0 / 24.0
_HUNDRED_TWENTIETH = 1.0 / 120.0


def work_size(n: int) -> int:
    """Length of the work array for ``n`` bodies."""
    return _BLOCKS * 3 * n + 1


@jit_inline
def _views(work: np.ndarray, n: int):
    blocks = c_view(work[: _BLOCKS * 3 * n], (_BLOCKS, n, 3))
    return blocks[0], blocks[1], blocks[2], blocks[3], blocks[4], blocks[5], blocks[6], blocks[7]


@jit
def init(x: np.ndarray, v: np.ndarray, m: np.ndarray, eps2: float, work: np.ndarray) -> int:
    """Evaluate the initial acceleration and jerk; returns the number of force evaluations (1)."""
    a0, j0, _, _, _, _, _, _ = _views(work, m.shape[0])
    accelerations_jerks(m, x, v, eps2, a0, j0)
    work[-1] = 0.0
    return 1


@jit_inline
def _predicted(x, v, a0, j0, dt, dt2, dt3):
    """The predicted position and velocity of one coordinate (``dt2, dt3`` the step's powers)."""
    return x + dt * v + dt2 / 2.0 * a0 + dt3 / 6.0 * j0, v + dt * a0 + dt2 / 2.0 * j0


@jit_inline
def _corrected(xp, vp, a0, j0, a1, j1, dt, dt2):
    """The corrected position and velocity of one coordinate, and its ``a2 dt^2, a3 dt^3`` at the end of the step.

    The second and third derivatives enter the corrector multiplied by powers of ``dt`` that cancel their
    denominators, so the corrector divides by nothing; Aarseth's criterion, the only reader of ``a2, a3``, scales
    their lengths once a body (:func:`aarseth_dt`)."""
    da = a0 - a1
    snap = -6.0 * da - dt * (4.0 * j0 + 2.0 * j1)  # a2 dt^2 at the start of the step
    crackle = 12.0 * da + 6.0 * dt * (j0 + j1)  # a3 dt^3
    return (
        xp + dt2 * _TWENTY_FOURTH * snap + dt2 * _HUNDRED_TWENTIETH * crackle,
        vp + dt * _SIXTH * snap + dt * _TWENTY_FOURTH * crackle,
        snap + crackle,
        crackle,
    )


@jit_inline
def advance(x: np.ndarray, v: np.ndarray, m: np.ndarray, eps2: float, dt: float, work: np.ndarray) -> None:
    """One Hermite PEC step of length ``dt`` in place (``init`` must have been called)."""
    n = m.shape[0]
    a0, j0, a2, a3, xp, vp, a1, j1 = _views(work, n)
    dt2 = dt * dt
    dt3 = dt2 * dt
    for i in range(n):
        for k in range(3):
            xp[i, k], vp[i, k] = _predicted(x[i, k], v[i, k], a0[i, k], j0[i, k], dt, dt2, dt3)
    accelerations_jerks(m, xp, vp, eps2, a1, j1)
    for i in range(n):
        for k in range(3):
            # a2 dt^2, a3 dt^3: the derivatives at the end of the step, for Aarseth's criterion
            x[i, k], v[i, k], a2[i, k], a3[i, k] = _corrected(xp[i, k], vp[i, k], a0[i, k], j0[i, k], a1[i, k], j1[i, k], dt, dt2)
            a0[i, k] = a1[i, k]
            j0[i, k] = j1[i, k]
    work[-1] = dt


@jit_inline
def aarseth_dt(work: np.ndarray, n: int, eta: float) -> float:
    """Aarseth's shared step from the stored derivatives (``eta * min |a|/|j|`` before the first step)."""
    a0, j0, a2, a3, _, _, _, _ = _views(work, n)
    best = np.inf
    h = work[-1]
    known = h != 0.0
    for i in range(n):
        a = _squared_length(a0[i, 0], a0[i, 1], a0[i, 2])
        j = _squared_length(j0[i, 0], j0[i, 1], j0[i, 2])
        if known:
            s2 = _squared_length(a2[i, 0], a2[i, 1], a2[i, 2])
            candidate = _aarseth_candidate(known, eta, a, j, s2, _squared_length(a3[i, 0], a3[i, 1], a3[i, 2]), h)
        else:
            candidate = _aarseth_candidate(known, eta, a, j, 0.0, 0.0, h)
        if candidate < best:  # NaN (a body with zero acceleration and jerk) never wins
            best = candidate
    return _aarseth_step(known, best)


@jit_inline
def _squared_length(x, y, z):
    """The squared length of a vector."""
    return x**2 + y**2 + z**2


@jit_inline
def _aarseth_candidate(known, eta, a, j, s, c, h):
    """Aarseth's step of one body from the squared lengths of its acceleration and jerk and of ``a2 h^2, a3 h^3``,
    squared (``h`` the last step; ``s, c, h`` unused before the first step, when only ``a, j`` are ``known``:
    ``eta |a| / |j|``, not squared). Two square roots a body, of the products ``|a|^2 |a2|^2`` and
    ``|j|^2 |a3|^2``, not one of each length; the powers of ``h`` multiplied out of the quotient, so that
    ``eta (|a||a2| + |j|^2) / (|j||a3| + |a2|^2)`` is ``eta h^2 (|a||a2 h^2| + |j|^2 h^2) / (h |j||a3 h^3| + |a2 h^2|^2)``.

    :func:`_aarseth_step` takes the square root of the bodies' minimum once: a correctly rounded square root is
    monotone, so that is bit for bit the minimum of the bodies' roots."""
    if known:
        h2 = h * h
        return eta * h2 * (math.sqrt(a * s) + j * h2) / (h * math.sqrt(j * c) + s)
    return eta * math.sqrt(a / j) if a > 0.0 else np.inf  # a body at rest by symmetry sets no scale


@jit_inline
def _aarseth_step(known, best):
    """The step from the bodies' smallest :func:`_aarseth_candidate`."""
    return math.sqrt(best) if known else best


@jit
def step_aarseth(x, v, m, eps2, eta, dt_max, work):
    """Hermite step with Aarseth's criterion; returns ``(dt taken, force evaluations)``.

    The first step is also bounded by ``eta`` times the collision time, which sets the scale when
    the bodies start at rest (zero jerk).
    """
    dt = aarseth_dt(work, m.shape[0], eta)
    if work[-1] == 0.0:
        dt = min(dt, eta * collision_time(m, x, v, eps2))
    dt = min(dt, dt_max)
    advance(x, v, m, eps2, dt, work)
    return dt, 1


@jit
def step_collision(x, v, m, eps2, eta, dt_max, work):
    """Hermite step with the collision-time criterion; returns ``(dt taken, force evaluations)``."""
    dt = min(eta * collision_time(m, x, v, eps2), dt_max)
    advance(x, v, m, eps2, dt, work)
    return dt, 1


@jit
def step_fixed(x, v, m, eps2, dt, dt_max, work):
    """Hermite step of fixed length ``dt`` (shortened to ``dt_max``)."""
    dt = min(dt, dt_max)
    advance(x, v, m, eps2, dt, work)
    return dt, 1


def _lane_advance(rows: lanes.Rows) -> lanes.LaneFunction:
    """``run(s, d, w)``: :func:`advance` of each lane by its step in row :data:`~nbody.lanes.DT` (:mod:`nbody.lanes`).

    The loops over the coordinates run on views ``t`` of ``s`` from row ``row`` on, so that every access of a lane
    loop is at a constant offset from one base (:mod:`nbody.lanes`)."""
    n, x, v = rows.n, rows.x, rows.v
    a0, j0, a2, a3, xp, vp, a1, j1 = (rows.work + block * 3 * n for block in range(_BLOCKS))
    known = rows.work + _BLOCKS * 3 * n
    forces = lanes.accelerations_jerks(rows, xp, vp, a1, j1)

    @jit_inline
    def run(s, d, w):
        for row in range(3 * n):
            t = s[row * LANES :]
            for lane in range(w):
                h = d[DT * LANES + lane]
                t[xp * LANES + lane], t[vp * LANES + lane] = _predicted(
                    t[x * LANES + lane], t[v * LANES + lane], t[a0 * LANES + lane], t[j0 * LANES + lane], h, h * h, h * h * h
                )
        forces(s, d, w)
        for row in range(3 * n):
            t = s[row * LANES :]
            for lane in range(w):
                h = d[DT * LANES + lane]
                t[x * LANES + lane], t[v * LANES + lane], t[a2 * LANES + lane], t[a3 * LANES + lane] = _corrected(
                    t[xp * LANES + lane], t[vp * LANES + lane], t[a0 * LANES + lane], t[j0 * LANES + lane], t[a1 * LANES + lane],
                    t[j1 * LANES + lane], h, h * h,
                )  # fmt: skip
                t[a0 * LANES + lane] = t[a1 * LANES + lane]
                t[j0 * LANES + lane] = t[j1 * LANES + lane]
        for lane in range(w):
            s[known * LANES + lane] = d[DT * LANES + lane]

    return run


def lane_step_aarseth(n: int, work_size: int) -> lanes.LaneStep:
    """:func:`step_aarseth` of every lane (:mod:`nbody.lanes`) of ``n`` bodies and a work array of ``work_size``."""
    rows = lanes.Rows(n, work_size)
    a0, j0, a2, a3 = (rows.work + block * 3 * n for block in range(4))
    known = rows.work + _BLOCKS * 3 * n
    collision = lanes.collision_time(rows)

    @jit_inline
    def size(s, d, w):
        collision(s, d, w)
        for lane in range(w):
            d[OWN * LANES + lane] = s[known * LANES + lane]  # (in d: the body loop below then reads s through t only)
            d[DT * LANES + lane] = np.inf
        for i in range(n):
            t = s[3 * i * LANES :]
            for lane in range(w):
                before = d[DT * LANES + lane]
                candidate = _aarseth_candidate(
                    d[OWN * LANES + lane] != 0.0,
                    d[PARAM * LANES + lane],
                    _lane_squared_length(t, a0, lane),
                    _lane_squared_length(t, j0, lane),
                    _lane_squared_length(t, a2, lane),
                    _lane_squared_length(t, a3, lane),
                    d[OWN * LANES + lane],
                )
                d[DT * LANES + lane] = candidate if candidate < before else before
        for lane in range(w):
            dt = _aarseth_step(d[OWN * LANES + lane] != 0.0, d[DT * LANES + lane])
            first = min(dt, d[PARAM * LANES + lane] * d[SCALE * LANES + lane])
            d[DT * LANES + lane] = min(dt if d[OWN * LANES + lane] != 0.0 else first, d[DT_MAX * LANES + lane])

    return lanes.whole_lane_step(rows, size, _lane_advance(rows))


@jit_inline
def _lane_squared_length(t, row, lane):
    """:func:`_squared_length` of the three rows from ``row`` of a lane."""
    return _squared_length(t[row * LANES + lane], t[(row + 1) * LANES + lane], t[(row + 2) * LANES + lane])


def lane_step_collision(n: int, work_size: int) -> lanes.LaneStep:
    """:func:`step_collision` of every lane (:mod:`nbody.lanes`) of ``n`` bodies and a work array of ``work_size``."""
    rows = lanes.Rows(n, work_size)
    return lanes.scaled_lane_step(rows, lanes.collision_time(rows), _lane_advance(rows))


def lane_step_fixed(n: int, work_size: int) -> lanes.LaneStep:
    """:func:`step_fixed` of every lane (:mod:`nbody.lanes`) of ``n`` bodies and a work array of ``work_size``."""
    rows = lanes.Rows(n, work_size)
    return lanes.fixed_lane_step(rows, _lane_advance(rows))
