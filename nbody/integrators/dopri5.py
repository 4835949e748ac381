"""Dormand-Prince 5(4) embedded Runge-Kutta with error control (Dormand & Prince 1980, J. Comput. Appl. Math. 6).

Seven stages, first-same-as-last: six force evaluations per attempted step. The fifth-order
solution is propagated; the difference with the embedded fourth-order one estimates the local
error, measured as the RMS over the components of ``(x, v)`` of
``err_i / (tol + tol * max(|y_i|, |y_new_i|))``. A step is accepted when this is <= 1, and the next
step is ``dt * min(5, max(0.2, 0.9 err^(-1/5)))`` (Hairer, Norsett & Wanner, Solving ODEs I, II.4).
With a fixed ``dt`` the scheme is fifth order.

Work array: stage velocities and accelerations (7 x N x 3 each), the stage state and the new
state (N x 3 each, twice), then the proposed next step.
"""

import math

import numpy as np

from nbody._jit import c_view, jit, jit_inline
from nbody.forces import accelerations, collision_time

_C = np.array([0.0, 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0, 1.0, 1.0])
_A = np.array(
    [
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [1.0 / 5.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [3.0 / 40.0, 9.0 / 40.0, 0.0, 0.0, 0.0, 0.0],
        [44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0, 0.0, 0.0, 0.0],
        [19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0, 0.0, 0.0],
        [9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0, -5103.0 / 18656.0, 0.0],
        [35.0 / 384.0, 0.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0],
    ]
)
# Fifth-order weights minus the embedded fourth-order ones.
_E = np.array([71.0 / 57600.0, 0.0, -71.0 / 16695.0, 71.0 / 1920.0, -17253.0 / 339200.0, 22.0 / 525.0, -1.0 / 40.0])
_STAGES = 7
#: First trial step as a fraction of the shortest collision time.
INITIAL_STEP_FRACTION = 1e-2


def work_size(n: int) -> int:
    """Length of the work array for ``n`` bodies."""
    return (2 * _STAGES + 4) * 3 * n + 1


@jit_inline
def _views(work: np.ndarray, n: int):
    size = 3 * n
    V = c_view(work[: _STAGES * size], (_STAGES, n, 3))
    A = c_view(work[_STAGES * size : 2 * _STAGES * size], (_STAGES, n, 3))
    rest = c_view(work[2 * _STAGES * size : (2 * _STAGES + 4) * size], (4, n, 3))
    return V, A, rest[0], rest[1], rest[2], rest[3]


@jit
def init(x: np.ndarray, v: np.ndarray, m: np.ndarray, eps2: float, work: np.ndarray) -> int:
    """First stage (FSAL) and the first trial step; returns the number of force evaluations (1)."""
    V, A, _, _, _, _ = _views(work, m.shape[0])
    accelerations(m, x, eps2, A[0])
    V[0, :, :] = v
    work[-1] = INITIAL_STEP_FRACTION * collision_time(m, x, v, eps2)
    return 1


@jit_inline
def _error_term(dt, ex, ev, tol, x, x_new, v, v_new) -> float:
    """One coordinate's share of the squared error norm: its position and velocity errors ``dt ex``, ``dt ev`` over
    ``tol + tol max(|y|, |y_new|)``."""
    sx = tol + tol * max(abs(x), abs(x_new))
    sv = tol + tol * max(abs(v), abs(v_new))
    return (dt * ex / sx) ** 2 + (dt * ev / sv) ** 2


@jit_inline
def _next_proposed(error, dt, proposed):
    """The step proposed after an attempt of ``dt`` that passed with ``error`` (``proposed`` the one it began from)."""
    factor = 5.0 if error == 0.0 else min(5.0, max(0.2, 0.9 * error ** (-0.2)))
    next_dt = dt * factor
    return max(next_dt, proposed) if dt < proposed else next_dt


@jit_inline
def _retried(error, dt):
    """The step to retry with after an attempt of ``dt`` that failed with ``error``."""
    return dt * max(0.2, 0.9 * error ** (-0.2)) if math.isfinite(error) else 0.2 * dt


@jit_inline
def _attempt(x, v, m, eps2, dt, work, tol) -> float:
    """Compute the stages and the fifth-order solution for ``dt``; returns the scaled error norm."""
    n = m.shape[0]
    V, A, xs, vs, x_new, v_new = _views(work, n)
    for s in range(1, _STAGES):
        for i in range(n):
            for k in range(3):
                dx = 0.0
                dv = 0.0
                for r in range(s):
                    dx += _A[s, r] * V[r, i, k]
                    dv += _A[s, r] * A[r, i, k]
                xs[i, k] = x[i, k] + dt * dx
                vs[i, k] = v[i, k] + dt * dv
        accelerations(m, xs, eps2, A[s])
        V[s, :, :] = vs
    x_new[:, :] = xs  # stage 7 sits at the fifth-order solution (FSAL)
    v_new[:, :] = vs
    if tol <= 0.0:
        return 0.0
    total = 0.0
    for i in range(n):
        for k in range(3):
            ex = 0.0
            ev = 0.0
            for s in range(_STAGES):
                ex += _E[s] * V[s, i, k]
                ev += _E[s] * A[s, i, k]
            total += _error_term(dt, ex, ev, tol, x[i, k], x_new[i, k], v[i, k], v_new[i, k])
    return math.sqrt(total / (6 * n))


@jit_inline
def _accept(x, v, work, n):
    V, A, _, _, x_new, v_new = _views(work, n)
    x[:, :] = x_new
    v[:, :] = v_new
    V[0, :, :] = V[_STAGES - 1]
    A[0, :, :] = A[_STAGES - 1]


@jit
def step_adaptive(x, v, m, eps2, tol, dt_max, work):
    """One accepted step at tolerance ``tol`` (rejected attempts are retried with a smaller step).

    Returns ``(dt taken, force evaluations including rejected attempts)``.
    """
    n = m.shape[0]
    proposed = work[-1]
    evals = 0
    while True:
        dt = min(proposed, dt_max)
        error = _attempt(x, v, m, eps2, dt, work, tol)
        evals += _STAGES - 1
        if error <= 1.0:
            work[-1] = _next_proposed(error, dt, proposed)
            _accept(x, v, work, n)
            return dt, evals
        if not math.isfinite(error) and dt < 1e-300:
            work[-1] = dt
            _accept(x, v, work, n)  # give up: the driver sees the non-finite state and stops
            return dt, evals
        proposed = _retried(error, dt)


@jit
def step_fixed(x, v, m, eps2, dt, dt_max, work):
    """Fifth-order step of fixed length ``dt`` (shortened to ``dt_max``), without error control."""
    dt = min(dt, dt_max)
    _attempt(x, v, m, eps2, dt, work, 0.0)
    _accept(x, v, work, m.shape[0])
    return dt, _STAGES - 1
