"""IAS15: 15th-order implicit Gauss-Radau integrator with adaptive steps (Rein & Spiegel 2015, MNRAS 446, 1424).

The acceleration over a step is a polynomial in ``h = t / dt`` whose seven coefficients ``b_k`` are
found by predictor-corrector iterations at the 7 Gauss-Radau nodes (Everhart 1985), until the change
of ``b_6`` relative to the largest acceleration drops below 1e-16 (at most 12 iterations, or until
it stops decreasing). Positions and velocities are updated with compensated (Kahan) summation.
The divided differences multiply by the reciprocals of the node differences (REBOUND divides by them;
the two agree to rounding), and every loop runs over the ``3 N`` coordinates as one index.

Step control (parameter ``tol``, REBOUND's ``epsilon``, default 1e-9): the criterion of Pham, Rein &
Spiegel (2024, arXiv 2401.02849), ``dt_new = dt * sqrt(min_i tau_i^2) * (7! tol)^(1/7)`` with
``tau_i^2 = 2 |y2|^2 / (|y3|^2 + |y4| |y2|)`` built from the acceleration at the end of the step
(``y2``) and its first and second derivatives (``y3``, ``y4``), with ``|y2|`` floored at
:data:`ACCELERATION_FLOOR` times the largest in the system (where a body's acceleration passes through zero
the unfloored timescale vanishes and the steps collapse). A step whose new estimate is below a quarter of the
step is rejected and redone; growth is limited to a factor 4.

The ``b`` of the next step are predicted from the last converged ones, rescaled to the ratio of the
steps, with the previous prediction error added back (Everhart's ``e``/``b`` scheme).

The lane steps of both step functions (sixteen systems in lock step) are :mod:`nbody.integrators.ias15_lanes`.
"""

import math

import numpy as np

from nbody._jit import c_view, jit, jit_inline
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
_RR_INVERSE = 1.0 / _RR
# Offsets of the rows of rr, c and d used at node n (n = 1..7).
_RR_START = np.array([0, 0, 1, 3, 6, 10, 15, 21])
_C_START = np.array([0, 0, 0, 1, 3, 6, 10, 15])
_BLOCKS_7 = 6  # b, e, br, er, g, csb
_BLOCKS_1 = 6  # a0, at, csx, csv, x_n, scratch
_PROPOSED, _LAST_DONE = -2, -1


def work_size(n: int) -> int:
    """Length of the work array for ``n`` bodies."""
    return (7 * _BLOCKS_7 + _BLOCKS_1) * 3 * n + 2


@jit_inline
def _views(work: np.ndarray, n: int):
    """The blocks of the work array over the ``3 n`` coordinates: ``b, e, br, er, g, csb`` (7, 3 n) and
    ``a0, at, csx, csv, xn`` (3 n); the loops run over one coordinate index, without a body and axis pair."""
    size = 3 * n
    sevens = c_view(work[: 7 * _BLOCKS_7 * size], (_BLOCKS_7, 7, size))
    ones = c_view(work[7 * _BLOCKS_7 * size : (7 * _BLOCKS_7 + _BLOCKS_1) * size], (_BLOCKS_1, size))
    return sevens[0], sevens[1], sevens[2], sevens[3], sevens[4], sevens[5], ones[0], ones[1], ones[2], ones[3], ones[4]


@jit_inline
def _bodies(values: np.ndarray, n: int) -> np.ndarray:
    """A block of ``3 n`` coordinates as ``(n, 3)``, as the force function takes it."""
    return c_view(values, (n, 3))


@jit_inline
def _compensated(value, compensation, increment):
    """``value + increment`` with Kahan's compensated summation: returns the sum and its new compensation."""
    y = increment - compensation
    total = value + y
    return total, (total - value) - y


@jit_inline
def _add_compensated(values, compensation, index, increment):
    """``values[index] += increment`` with Kahan's compensated summation."""
    values[index], compensation[index] = _compensated(values[index], compensation[index], increment)


@jit
def init(x: np.ndarray, v: np.ndarray, m: np.ndarray, eps2: float, work: np.ndarray) -> int:
    """Initial acceleration and first trial step; returns the number of force evaluations (1)."""
    work[:] = 0.0
    n = m.shape[0]
    a0 = _views(work, n)[6]
    accelerations(m, x, eps2, _bodies(a0, n))
    work[_PROPOSED] = INITIAL_STEP_FRACTION * collision_time(m, x, v, eps2)
    work[_LAST_DONE] = 0.0
    return 1


@jit_inline
def _powers(ratio):
    """``ratio``, ``ratio^2``, ..., ``ratio^7`` by successive products."""
    q1 = ratio
    q2 = q1 * ratio
    q3 = q2 * ratio
    q4 = q3 * ratio
    q5 = q4 * ratio
    q6 = q5 * ratio
    return q1, q2, q3, q4, q5, q6, q6 * ratio


@jit_inline
def _predicted(q, b):
    """The ``e`` of one coordinate for the next step from its last seven ``b`` and the powers ``q`` of the ratio of the
    steps: the binomial coefficients of ``b(t)`` re-expanded about the new step, summed in rising order."""
    b0, b1, b2, b3, b4, b5, b6 = b
    return (
        q[0] * (b0 + 2.0 * b1 + 3.0 * b2 + 4.0 * b3 + 5.0 * b4 + 6.0 * b5 + 7.0 * b6),
        q[1] * (b1 + 3.0 * b2 + 6.0 * b3 + 10.0 * b4 + 15.0 * b5 + 21.0 * b6),
        q[2] * (b2 + 4.0 * b3 + 10.0 * b4 + 20.0 * b5 + 35.0 * b6),
        q[3] * (b3 + 5.0 * b4 + 15.0 * b5 + 35.0 * b6),
        q[4] * (b4 + 6.0 * b5 + 21.0 * b6),
        q[5] * (b5 + 7.0 * b6),
        q[6] * b6,
    )


@jit_inline
def _g_of_b(b):
    """The divided differences ``g`` of one coordinate from its seven ``b``."""
    b0, b1, b2, b3, b4, b5, b6 = b
    return (
        b6 * _D[15] + b5 * _D[10] + b4 * _D[6] + b3 * _D[3] + b2 * _D[1] + b1 * _D[0] + b0,
        b6 * _D[16] + b5 * _D[11] + b4 * _D[7] + b3 * _D[4] + b2 * _D[2] + b1,
        b6 * _D[17] + b5 * _D[12] + b4 * _D[8] + b3 * _D[5] + b2,
        b6 * _D[18] + b5 * _D[13] + b4 * _D[9] + b3,
        b6 * _D[19] + b5 * _D[14] + b4,
        b6 * _D[20] + b5,
        b6,
    )


@jit_inline
def _node_coefficients(dt, hn):
    """The coefficients ``s0 .. s8`` of ``v, a0, b_0 .. b_6`` in the position at node ``hn`` of a step ``dt``."""
    s0 = dt * hn
    s1 = s0 * s0 / 2.0
    s2 = s1 * hn / 3.0
    s3 = s2 * hn / 2.0
    s4 = 3.0 * s3 * hn / 5.0
    s5 = 2.0 * s4 * hn / 3.0
    s6 = 5.0 * s5 * hn / 7.0
    s7 = 3.0 * s6 * hn / 4.0
    return s0, s1, s2, s3, s4, s5, s6, s7, 7.0 * s7 * hn / 9.0


@jit_inline
def _column(block, c):
    """The seven coefficients of coordinate ``c`` of a block (7, 3 n) of the work array."""
    return block[0, c], block[1, c], block[2, c], block[3, c], block[4, c], block[5, c], block[6, c]


@jit_inline
def _node_position(s, x, v, a0, csx, b):
    """The position of one coordinate at a node: ``s`` from :func:`_node_coefficients`, ``b`` its seven coefficients,
    ``csx`` the compensation of ``x``."""
    return (
        -csx + (s[8] * b[6] + s[7] * b[5] + s[6] * b[4] + s[5] * b[3] + s[4] * b[2] + s[3] * b[1] + s[2] * b[0] + s[1] * a0 + s[0] * v)
    ) + x


@jit_inline
def _converged(error, last_error, iterations):
    """Whether the predictor-corrector iterations stop: converged, no longer improving, or at the most allowed."""
    return error < 1e-16 or (iterations > 2 and last_error <= error) or iterations >= _MAX_ITERATIONS


@jit_inline
def _end_acceleration(a0, b):
    """The acceleration of one coordinate at the end of the step, ``a0 + b_0 + ... + b_6``."""
    return a0 + b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6]


@jit_inline
def _derivatives(b):
    """The first and second derivatives of the acceleration of one coordinate at the end of the step (times ``dt``
    and ``dt^2``)."""
    return (
        b[0] + 2.0 * b[1] + 3.0 * b[2] + 4.0 * b[3] + 5.0 * b[4] + 6.0 * b[5] + 7.0 * b[6],
        2.0 * b[1] + 6.0 * b[2] + 12.0 * b[3] + 20.0 * b[4] + 30.0 * b[5] + 42.0 * b[6],
    )


@jit_inline
def _timescale2(y2, y3, y4):
    """PRS24's time scale squared of a body from its ``|y2|^2, |y3|^2, |y4|^2`` (in units of the step)."""
    return 2.0 * y2 / (y3 + math.sqrt(y4 * y2))


@jit_inline
def _estimated_step(timescale2, dt_done, tol):
    """The next step from the shortest time scale squared (the step over the safety factor when there is none)."""
    if math.isfinite(timescale2):
        return math.sqrt(timescale2) * dt_done * (tol * 5040.0) ** (1.0 / 7.0)
    return dt_done / SAFETY_FACTOR


@jit_inline
def _rejected(dt_new, dt):
    """Whether a step ``dt`` whose estimate is ``dt_new`` is redone."""
    return abs(dt_new / dt) < SAFETY_FACTOR and dt_new > 0.0


@jit_inline
def _next_proposed(dt_new, dt, proposed):
    """The step proposed after an accepted step ``dt``: ``dt_new`` grown at most by ``1 / SAFETY_FACTOR``; a step
    shortened to land on an output time (``dt < proposed``) must not shrink the following ones."""
    grown = dt / SAFETY_FACTOR if dt_new / dt > 1.0 / SAFETY_FACTOR else dt_new
    return max(grown, proposed) if dt < proposed else grown


@jit_inline
def _finished(position, position_c, velocity, velocity_c, a0, b, dt):
    """One coordinate and its compensations at the end of the step: ``x += dt v + dt^2 (a0 / 2 + sum_k b_k / ((k + 2)
    (k + 3)))``, ``v += dt (a0 + sum_k b_k / (k + 2))``, smallest terms first, with compensated sums."""
    dt2 = dt * dt
    for k in range(6, -1, -1):
        position, position_c = _compensated(position, position_c, b[k] / ((k + 2.0) * (k + 3.0)) * dt2)
    position, position_c = _compensated(position, position_c, a0 / 2.0 * dt2)
    position, position_c = _compensated(position, position_c, velocity * dt)
    for k in range(6, -1, -1):
        velocity, velocity_c = _compensated(velocity, velocity_c, b[k] / (k + 2.0) * dt)
    velocity, velocity_c = _compensated(velocity, velocity_c, a0 * dt)
    return position, position_c, velocity, velocity_c


@jit_inline
def _predict(work: np.ndarray, n: int, ratio: float) -> None:
    """``e, b`` for a step ``ratio`` times the last one, from the last converged ``br`` and its prediction ``er``."""
    b, e, br, er, g, csb, a0, at, csx, csv, xn = _views(work, n)
    if ratio > 20.0:  # too far to extrapolate: start the iterations from zero
        b[:, :] = 0.0
        e[:, :] = 0.0
        return
    q = _powers(ratio)
    for c in range(3 * n):
        e[0, c], e[1, c], e[2, c], e[3, c], e[4, c], e[5, c], e[6, c] = _predicted(q, _column(br, c))
        for row in range(7):
            b[row, c] = e[row, c] + (br[row, c] - er[row, c])


@jit_inline
def _attempt(x, v, m, eps2, dt, work):
    """Predictor-corrector iterations for a step ``dt``; returns the number of force evaluations."""
    n = m.shape[0]
    size = 3 * n
    b, e, br, er, g, csb, a0, at, csx, csv, xn = _views(work, n)
    xf = c_view(x, (size,))
    vf = c_view(v, (size,))
    xn_bodies = _bodies(xn, n)
    at_bodies = _bodies(at, n)
    csb[:, :] = 0.0
    for c in range(size):
        g[0, c], g[1, c], g[2, c], g[3, c], g[4, c], g[5, c], g[6, c] = _g_of_b(_column(b, c))
    error = 1e300
    last_error = 2.0
    iterations = 0
    evals = 0
    while True:
        if _converged(error, last_error, iterations):
            break
        last_error = error
        iterations += 1
        for node in range(1, 8):
            coefficients = _node_coefficients(dt, _H[node])
            for c in range(size):
                xn[c] = _node_position(coefficients, xf[c], vf[c], a0[c], csx[c], _column(b, c))
            accelerations(m, xn_bodies, eps2, at_bodies)
            evals += 1
            k = node - 1  # the g (and b) coefficient this node determines
            r0 = _RR_START[node]
            c0 = _C_START[node]
            max_a = 0.0
            max_db6 = 0.0
            for c in range(size):
                value = (at[c] - a0[c]) * _RR_INVERSE[r0]
                for previous in range(k):
                    value = (value - g[previous, c]) * _RR_INVERSE[r0 + 1 + previous]
                change = value - g[k, c]
                g[k, c] = value
                for previous in range(k):
                    _add_compensated(b, csb, (previous, c), change * _C[c0 + previous])
                _add_compensated(b, csb, (k, c), change)
                if node == 7:
                    max_a = max(max_a, abs(at[c]))
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
        for c in range(3 * i, 3 * i + 3):
            t2 = _end_acceleration(a0[c], _column(b, c))
            y2 += t2 * t2
        largest2 = max(largest2, y2)
    floor2 = (ACCELERATION_FLOOR**2) * largest2
    min_timescale2 = np.inf
    for i in range(n):
        a0i = 0.0
        y2 = 0.0
        y3 = 0.0
        y4 = 0.0
        for c in range(3 * i, 3 * i + 3):
            a0i += a0[c] ** 2
            t2 = _end_acceleration(a0[c], _column(b, c))
            t3, t4 = _derivatives(_column(b, c))
            y2 += t2 * t2
            y3 += t3 * t3
            y4 += t4 * t4
        if not (a0i > 0.0 and math.isfinite(a0i)):
            continue
        y2 = max(y2, floor2)  # a body whose acceleration passes through zero must not collapse the step
        timescale2 = _timescale2(y2, y3, y4)
        if timescale2 > 0.0 and math.isfinite(timescale2) and timescale2 < min_timescale2:
            min_timescale2 = timescale2
    return _estimated_step(min_timescale2, dt_done, tol)


@jit_inline
def _finish(x, v, m, eps2, dt, work) -> None:
    """Advance ``x, v`` to the end of the step with compensated sums; keep ``b, e`` for the next prediction."""
    n = m.shape[0]
    size = 3 * n
    b, e, br, er, g, csb, a0, at, csx, csv, xn = _views(work, n)
    xf = c_view(x, (size,))
    vf = c_view(v, (size,))
    for c in range(size):
        xf[c], csx[c], vf[c], csv[c] = _finished(xf[c], csx[c], vf[c], csv[c], a0[c], _column(b, c), dt)
    br[:, :] = b
    er[:, :] = e
    accelerations(m, x, eps2, _bodies(a0, n))


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
        if _rejected(dt_new, dt):
            work[_PROPOSED] = dt_new  # rejected: x, v untouched, retry from the same state
            continue
        _finish(x, v, m, eps2, dt, work)
        evals += 1
        work[_PROPOSED] = _next_proposed(dt_new, dt, work[_PROPOSED])
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
