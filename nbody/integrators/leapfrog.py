"""Kick-drift-kick leapfrog (velocity Verlet): second order, symplectic and time-reversible at fixed ``dt``.

The acceleration at the end of a step is kept for the first kick of the next, so each step costs
one force evaluation. The adaptive variant takes ``dt = eta * min over pairs sqrt(r^3 / (m_i + m_j))``
(the free-fall time ``sqrt(r / a_ij)``); a variable step breaks exact symplecticity.

Work array: the acceleration (N x 3).
"""

import numpy as np

from nbody import lanes
from nbody._jit import c_view, jit, jit_inline
from nbody.forces import accelerations, free_fall_time
from nbody.lanes import DT, LANES


def work_size(n: int) -> int:
    """Length of the work array for ``n`` bodies."""
    return 3 * n


@jit
def init(x: np.ndarray, v: np.ndarray, m: np.ndarray, eps2: float, work: np.ndarray) -> int:
    """Evaluate the initial acceleration; returns the number of force evaluations (1)."""
    accelerations(m, x, eps2, c_view(work, (m.shape[0], 3)))
    return 1


@jit_inline
def advance(x: np.ndarray, v: np.ndarray, m: np.ndarray, eps2: float, dt: float, work: np.ndarray) -> None:
    """One kick-drift-kick step of length ``dt`` in place."""
    a = c_view(work, (m.shape[0], 3))
    half = 0.5 * dt
    for i in range(m.shape[0]):
        for k in range(3):
            v[i, k] += half * a[i, k]
            x[i, k] += dt * v[i, k]
    accelerations(m, x, eps2, a)
    for i in range(m.shape[0]):
        for k in range(3):
            v[i, k] += half * a[i, k]


@jit_inline
def step_fixed(x, v, m, eps2, dt, dt_max, work):
    """Leapfrog step of fixed length ``dt`` (shortened to ``dt_max``); returns ``(dt, 1)``."""
    dt = min(dt, dt_max)
    advance(x, v, m, eps2, dt, work)
    return dt, 1


@jit_inline
def step_adaptive(x, v, m, eps2, eta, dt_max, work):
    """Leapfrog step of ``eta`` times the shortest free-fall time; returns ``(dt, 1)``."""
    dt = min(eta * free_fall_time(m, x, eps2), dt_max)
    advance(x, v, m, eps2, dt, work)
    return dt, 1


def _lane_advance(rows: lanes.Rows) -> lanes.LaneFunction:
    """``run(s, d, w)``: :func:`advance` of each lane by its step in row :data:`~nbody.lanes.DT` (:mod:`nbody.lanes`)."""
    n, x, v, a = rows.n, rows.x, rows.v, rows.work
    forces = lanes.accelerations(rows, x, a)

    @jit_inline
    def run(s, d, w):
        for row in range(3 * n):
            t = s[row * LANES :]  # (a view: constant offsets in the lane loop, :func:`nbody.integrators.hermite._lane_advance`)
            for lane in range(w):
                h = d[DT * LANES + lane]
                t[v * LANES + lane] += 0.5 * h * t[a * LANES + lane]
                t[x * LANES + lane] += h * t[v * LANES + lane]
        forces(s, d, w)
        for row in range(3 * n):
            t = s[row * LANES :]
            for lane in range(w):
                t[v * LANES + lane] += 0.5 * d[DT * LANES + lane] * t[a * LANES + lane]

    return run


def lane_step_fixed(n: int, work_size: int) -> lanes.LaneStep:
    """:func:`step_fixed` of every lane (:mod:`nbody.lanes`) of ``n`` bodies and a work array of ``work_size``."""
    rows = lanes.Rows(n, work_size)
    return lanes.fixed_lane_step(rows, _lane_advance(rows))


def lane_step_adaptive(n: int, work_size: int) -> lanes.LaneStep:
    """:func:`step_adaptive` of every lane (:mod:`nbody.lanes`) of ``n`` bodies and a work array of ``work_size``."""
    rows = lanes.Rows(n, work_size)
    return lanes.scaled_lane_step(rows, lanes.free_fall_time(rows), _lane_advance(rows))
