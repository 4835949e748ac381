"""IAS15: 15th-order implicit Gauss-Radau integrator with adaptive steps (Rein & Spiegel 2015, MNRAS 446, 1424).

The acceleration over a step is a polynomial in ``h = t / dt`` whose seven coefficients ``b_k`` are
found by predictor-corrector iterations at the 7 Gauss-Radau nodes (Everhart 1985), until the change
of ``b_6`` relative to the largest acceleration drops below 1e-16 (at most 12 iterations, or until
it stops decreasing). Positions and velocities are updated with compensated (Kahan) summation.

Step control (parameter ``tol``, REBOUND's ``epsilon``, default 1e-9): the criterion of Pham, Rein &
Spiegel (2024, arXiv 2401.02849), ``dt_new = dt * sqrt(min_i tau_i^2) * (7! tol)^(1/7)`` with
``tau_i^2 = 2 |y2|^2 / (|y3|^2 + |y4| |y2|)`` built from the acceleration at the end of the step
(``y2``) and its first and second derivatives (``y3``, ``y4``), with ``|y2|`` floored at
:data:`ACCELERATION_FLOOR` times the largest in the system (where a body's acceleration passes through zero
the unfloored timescale vanishes and the steps collapse). A step whose new estimate is below a quarter of the
step is rejected and redone; growth is limited to a factor 4.

The ``b`` of the next step are predicted from the last converged ones, rescaled to the ratio of the
steps, with the previous prediction error added back (Everhart's ``e``/``b`` scheme).
"""

import math

import numpy as np

from nbody._jit import jit, jit_inline
from nbody.forces import accelerations, collision_time

SAFETY_FACTOR = 0.25
#: A body's acceleration enters the step criterion as at least this fraction of the system's largest: where an
#: acceleration passes through zero (the middle body of the figure-eight), PRS23's timescale ``|a| / |jerk|``
#: goes to zero with it, and without a floor each step lands short of the zero (0.75 of the last), until
#: ``t + dt == t`` (652 periods of the figure-eight at tol 1e-9).
ACCELERATION_FLOOR = 1e-2
#: First trial step as a fraction of the shortest collision time.
INITIAL_STEP_FRACTION = 1e-2
_MAX_ITERATIONS = 12


def gauss_radau_spacings() -> np.ndarray:
    """The 8 nodes on [0, 1] (extended precision): 0 and the 7 roots of ``(P_7 + P_8)(2h - 1) / h``, increasing."""
    from numpy.polynomial import legendre

    coefficients = np.zeros(9, dtype=np.longdouble)
    coefficients[7] = coefficients[8] = 1.0  # P_7 + P_8 vanishes at -1 and at the Radau nodes
    roots = np.sort(legendre.legroots(coefficients.astype(np.float64)).real)[1:].astype(np.longdouble)
    derivative = legendre.legder(coefficients)
    for _ in range(3):  # Newton polish in extended precision
        roots -= legendre.legval(roots, coefficients) / legendre.legval(roots, derivative)
    return np.concatenate([[0.0], (roots + 1.0) / 2.0])


def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Node differences ``rr`` and the conversion coefficients ``c`` (g -> b) and ``d`` (b -> g)."""
    h = gauss_radau_spacings()
    rr = np.array([h[j] - h[k] for j in range(1, 8) for k in range(j)], dtype=np.longdouble)
    c = np.zeros(21, dtype=np.longdouble)
    d = np.zeros(21, dtype=np.longdouble)
    c[0], d[0] = -h[1], h[1]
    index = 0
    for j in range(2, 7):
        index += 1
        c[index] = -h[j] * c[index - j + 1]
        d[index] = h[1] * d[index - j + 1]
        for k in range(2, j):
            index += 1
            c[index] = c[index - j] - h[j] * c[index - j + 1]
            d[index] = d[index - j] + h[k] * d[index - j + 1]
        index += 1
        c[index] = c[index - j] - h[j]
        d[index] = d[index - j] + h[j]
    return h.astype(np.float64), rr.astype(np.float64), c.astype(np.float64), d.astype(np.float64)


_H, _RR, _C, _D = _tables()
# Offsets of the rows of rr, c and d used at node n (n = 1..7).
_RR_START = np.array([0, 0, 1, 3, 6, 10, 15, 21])
_C_START = np.array([0, 0, 0, 1, 3, 6, 10, 15])
# Binomial coefficients of the prediction of b for the next step.
_PREDICT = np.array(
    [
        [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        [0.0, 1.0, 3.0, 6.0, 10.0, 15.0, 21.0],
        [0.0, 0.0, 1.0, 4.0, 10.0, 20.0, 35.0],
        [0.0, 0.0, 0.0, 1.0, 5.0, 15.0, 35.0],
        [0.0, 0.0, 0.0, 0.0, 1.0, 6.0, 21.0],
        [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 7.0],
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
    ]
)
_BLOCKS_7 = 6  # b, e, br, er, g, csb
_BLOCKS_1 = 6  # a0, at, csx, csv, x_n, scratch
_PROPOSED, _LAST_DONE = -2, -1


def work_size(n: int) -> int:
    """Length of the work array for ``n`` bodies."""
    return (7 * _BLOCKS_7 + _BLOCKS_1) * 3 * n + 2


@jit_inline
def _views(work: np.ndarray, n: int):
    size = 3 * n
    sevens = work[: 7 * _BLOCKS_7 * size].reshape(_BLOCKS_7, 7, n, 3)
    ones = work[7 * _BLOCKS_7 * size : (7 * _BLOCKS_7 + _BLOCKS_1) * size].reshape(_BLOCKS_1, n, 3)
    return sevens[0], sevens[1], sevens[2], sevens[3], sevens[4], sevens[5], ones[0], ones[1], ones[2], ones[3], ones[4]


@jit_inline
def _add_compensated(values, compensation, i, k, increment):
    y = increment - compensation[i, k]
    t = values[i, k] + y
    compensation[i, k] = (t - values[i, k]) - y
    values[i, k] = t


@jit
def init(x: np.ndarray, v: np.ndarray, m: np.ndarray, eps2: float, work: np.ndarray) -> int:
    """Initial acceleration and first trial step; returns the number of force evaluations (1)."""
    work[:] = 0.0
    b, e, br, er, g, csb, a0, at, csx, csv, xn = _views(work, m.shape[0])
    accelerations(m, x, eps2, a0)
    work[_PROPOSED] = INITIAL_STEP_FRACTION * collision_time(m, x, v, eps2)
    work[_LAST_DONE] = 0.0
    return 1


@jit_inline
def _predict(work: np.ndarray, n: int, ratio: float) -> None:
    """``e, b`` for a step ``ratio`` times the last one, from the last converged ``br`` and its prediction ``er``."""
    b, e, br, er, g, csb, a0, at, csx, csv, xn = _views(work, n)
    if ratio > 20.0:  # too far to extrapolate: start the iterations from zero
        b[:, :, :] = 0.0
        e[:, :, :] = 0.0
        return
    q = np.empty(7)
    q[0] = ratio
    for k in range(1, 7):
        q[k] = q[k - 1] * ratio
    for i in range(n):
        for d in range(3):
            for row in range(7):
                total = 0.0
                for col in range(row, 7):
                    total += _PREDICT[row, col] * br[col, i, d]
                e[row, i, d] = q[row] * total
            for row in range(7):
                b[row, i, d] = e[row, i, d] + (br[row, i, d] - er[row, i, d])


@jit_inline
def _attempt(x, v, m, eps2, dt, work):
    """Predictor-corrector iterations for a step ``dt``; returns the number of force evaluations."""
    n = m.shape[0]
    b, e, br, er, g, csb, a0, at, csx, csv, xn = _views(work, n)
    csb[:, :, :] = 0.0
    for i in range(n):
        for d in range(3):
            g[0, i, d] = (
                b[6, i, d] * _D[15]
                + b[5, i, d] * _D[10]
                + b[4, i, d] * _D[6]
                + b[3, i, d] * _D[3]
                + b[2, i, d] * _D[1]
                + b[1, i, d] * _D[0]
                + b[0, i, d]
            )
            g[1, i, d] = (
                b[6, i, d] * _D[16] + b[5, i, d] * _D[11] + b[4, i, d] * _D[7] + b[3, i, d] * _D[4] + b[2, i, d] * _D[2] + b[1, i, d]
            )
            g[2, i, d] = b[6, i, d] * _D[17] + b[5, i, d] * _D[12] + b[4, i, d] * _D[8] + b[3, i, d] * _D[5] + b[2, i, d]
            g[3, i, d] = b[6, i, d] * _D[18] + b[5, i, d] * _D[13] + b[4, i, d] * _D[9] + b[3, i, d]
            g[4, i, d] = b[6, i, d] * _D[19] + b[5, i, d] * _D[14] + b[4, i, d]
            g[5, i, d] = b[6, i, d] * _D[20] + b[5, i, d]
            g[6, i, d] = b[6, i, d]
    s = np.empty(9)
    error = 1e300
    last_error = 2.0
    iterations = 0
    evals = 0
    while True:
        if error < 1e-16 or (iterations > 2 and last_error <= error) or iterations >= _MAX_ITERATIONS:
            break
        last_error = error
        iterations += 1
        for node in range(1, 8):
            hn = _H[node]
            s[0] = dt * hn
            s[1] = s[0] * s[0] / 2.0
            s[2] = s[1] * hn / 3.0
            s[3] = s[2] * hn / 2.0
            s[4] = 3.0 * s[3] * hn / 5.0
            s[5] = 2.0 * s[4] * hn / 3.0
            s[6] = 5.0 * s[5] * hn / 7.0
            s[7] = 3.0 * s[6] * hn / 4.0
            s[8] = 7.0 * s[7] * hn / 9.0
            for i in range(n):
                for d in range(3):
                    xn[i, d] = (
                        -csx[i, d]
                        + (
                            s[8] * b[6, i, d]
                            + s[7] * b[5, i, d]
                            + s[6] * b[4, i, d]
                            + s[5] * b[3, i, d]
                            + s[4] * b[2, i, d]
                            + s[3] * b[1, i, d]
                            + s[2] * b[0, i, d]
                            + s[1] * a0[i, d]
                            + s[0] * v[i, d]
                        )
                    ) + x[i, d]
            accelerations(m, xn, eps2, at)
            evals += 1
            k = node - 1  # the g (and b) coefficient this node determines
            r0 = _RR_START[node]
            c0 = _C_START[node]
            max_a = 0.0
            max_db6 = 0.0
            for i in range(n):
                for d in range(3):
                    value = (at[i, d] - a0[i, d]) / _RR[r0]
                    for previous in range(k):
                        value = (value - g[previous, i, d]) / _RR[r0 + 1 + previous]
                    change = value - g[k, i, d]
                    g[k, i, d] = value
                    for previous in range(k):
                        _add_compensated(b[previous], csb[previous], i, d, change * _C[c0 + previous])
                    _add_compensated(b[k], csb[k], i, d, change)
                    if node == 7:
                        max_a = max(max_a, abs(at[i, d]))
                        max_db6 = max(max_db6, abs(change))
            if node == 7:
                error = max_db6 / max_a if max_a > 0.0 else 0.0
    return evals


@jit_inline
def _proposed_step(work: np.ndarray, n: int, dt_done: float, tol: float) -> float:
    """Pham, Rein & Spiegel (2024) estimate of the next step."""
    b, e, br, er, g, csb, a0, at, csx, csv, xn = _views(work, n)
    largest2 = 0.0  # the largest end-of-step acceleration squared: the floor below is relative to it
    for i in range(n):
        y2 = 0.0
        for d in range(3):
            t2 = a0[i, d] + b[0, i, d] + b[1, i, d] + b[2, i, d] + b[3, i, d] + b[4, i, d] + b[5, i, d] + b[6, i, d]
            y2 += t2 * t2
        largest2 = max(largest2, y2)
    floor2 = (ACCELERATION_FLOOR**2) * largest2
    min_timescale2 = np.inf
    for i in range(n):
        a0i = 0.0
        y2 = 0.0
        y3 = 0.0
        y4 = 0.0
        for d in range(3):
            a0i += a0[i, d] ** 2
            t2 = a0[i, d] + b[0, i, d] + b[1, i, d] + b[2, i, d] + b[3, i, d] + b[4, i, d] + b[5, i, d] + b[6, i, d]
            t3 = (
                b[0, i, d] + 2.0 * b[1, i, d] + 3.0 * b[2, i, d] + 4.0 * b[3, i, d] + 5.0 * b[4, i, d] + 6.0 * b[5, i, d] + 7.0 * b[6, i, d]
            )
            t4 = 2.0 * b[1, i, d] + 6.0 * b[2, i, d] + 12.0 * b[3, i, d] + 20.0 * b[4, i, d] + 30.0 * b[5, i, d] + 42.0 * b[6, i, d]
            y2 += t2 * t2
            y3 += t3 * t3
            y4 += t4 * t4
        if not (a0i > 0.0 and math.isfinite(a0i)):
            continue
        y2 = max(y2, floor2)  # a body whose acceleration passes through zero must not collapse the step
        timescale2 = 2.0 * y2 / (y3 + math.sqrt(y4 * y2))
        if timescale2 > 0.0 and math.isfinite(timescale2) and timescale2 < min_timescale2:
            min_timescale2 = timescale2
    if math.isfinite(min_timescale2):
        return math.sqrt(min_timescale2) * dt_done * (tol * 5040.0) ** (1.0 / 7.0)
    return dt_done / SAFETY_FACTOR


@jit_inline
def _finish(x, v, m, eps2, dt, work) -> None:
    """Advance ``x, v`` to the end of the step with compensated sums; keep ``b, e`` for the next prediction."""
    n = m.shape[0]
    b, e, br, er, g, csb, a0, at, csx, csv, xn = _views(work, n)
    dt2 = dt * dt
    for i in range(n):
        for d in range(3):
            # x += dt v + dt^2 (a0 / 2 + sum_k b_k / ((k + 2)(k + 3))), v += dt (a0 + sum_k b_k / (k + 2)),
            # smallest terms first.
            for k in range(6, -1, -1):
                _add_compensated(x, csx, i, d, b[k, i, d] / ((k + 2.0) * (k + 3.0)) * dt2)
            _add_compensated(x, csx, i, d, a0[i, d] / 2.0 * dt2)
            _add_compensated(x, csx, i, d, v[i, d] * dt)
            for k in range(6, -1, -1):
                _add_compensated(v, csv, i, d, b[k, i, d] / (k + 2.0) * dt)
            _add_compensated(v, csv, i, d, a0[i, d] * dt)
    br[:, :, :] = b
    er[:, :, :] = e
    accelerations(m, x, eps2, a0)


@jit
def step_adaptive(x, v, m, eps2, tol, dt_max, work):
    """One accepted IAS15 step at accuracy ``tol`` (rejected trials are redone with a smaller step).

    Returns ``(dt taken, force evaluations including rejected trials and the end-of-step one)``.
    """
    n = m.shape[0]
    evals = 0
    while True:
        dt = min(work[_PROPOSED], dt_max)
        if work[_LAST_DONE] != 0.0:
            _predict(work, n, dt / work[_LAST_DONE])
        evals += _attempt(x, v, m, eps2, dt, work)
        dt_new = _proposed_step(work, n, dt, tol)
        if abs(dt_new / dt) < SAFETY_FACTOR and dt_new > 0.0:
            work[_PROPOSED] = dt_new  # rejected: x, v untouched, retry from the same state
            continue
        if dt_new / dt > 1.0 / SAFETY_FACTOR:
            dt_new = dt / SAFETY_FACTOR
        _finish(x, v, m, eps2, dt, work)
        evals += 1
        # A step shortened to land on an output time must not shrink the following ones.
        work[_PROPOSED] = max(dt_new, work[_PROPOSED]) if dt < work[_PROPOSED] else dt_new
        work[_LAST_DONE] = dt
        return dt, evals


@jit
def step_fixed(x, v, m, eps2, dt, dt_max, work):
    """IAS15 step of fixed length ``dt`` (shortened to ``dt_max``), converged to round-off."""
    n = m.shape[0]
    dt = min(dt, dt_max)
    if work[_LAST_DONE] != 0.0:
        _predict(work, n, dt / work[_LAST_DONE])
    evals = _attempt(x, v, m, eps2, dt, work)
    _finish(x, v, m, eps2, dt, work)
    work[_LAST_DONE] = dt
    return dt, evals + 1
