"""Pairwise Newtonian gravity (G = 1, Plummer softening ``eps2 = softening**2``), compiled with Numba.

All functions take ``m`` (N,), ``x`` and ``v`` (N, 3) float64 arrays and write into
preallocated outputs, so the integrators allocate nothing per step.
"""

import math

import numpy as np

from nbody._jit import jit, jit_inline


@jit_inline
def pair_acceleration(dx: float, dy: float, dz: float, eps2: float) -> float:
    """``1 / r^3`` of a pair at separation ``(dx, dy, dz)``, softened: ``r^2 = |dx|^2 + eps2`` (the pair law of
    :func:`accelerations`, shared with the lane steps of :mod:`nbody.lanes`)."""
    r2 = dx * dx + dy * dy + dz * dz + eps2
    return 1.0 / (r2 * math.sqrt(r2))


@jit_inline
def pair_acceleration_jerk(dx: float, dy: float, dz: float, dvx: float, dvy: float, dvz: float, eps2: float):
    """``(1 / r^3, j)`` of a pair: ``j = dv / r^3 - 3 (dr . dv) dr / r^5``, the pair law of :func:`accelerations_jerks`."""
    r2 = dx * dx + dy * dy + dz * dz + eps2
    inv_r2 = 1.0 / r2
    inv_r3 = inv_r2 / math.sqrt(r2)
    rv = 3.0 * (dx * dvx + dy * dvy + dz * dvz) * inv_r2
    return inv_r3, (dvx - rv * dx) * inv_r3, (dvy - rv * dy) * inv_r3, (dvz - rv * dz) * inv_r3


@jit_inline
def pair_collision_time(best: float, dx: float, dy: float, dz: float, v2: float, eps2: float, mass: float) -> float:
    """``min(best, r^2 / |dv|^2, r^3 / (m_i + m_j))`` of a pair (``v2 = |dv|^2``, ``mass = m_i + m_j``): the pair
    term of :func:`collision_time`, squared; a pair at rest relative to each other gives only its free-fall time.

    The square root is taken once, of the minimum over the pairs (:func:`collision_time`): a correctly rounded square
    root is monotone, so that is bit for bit the minimum of the pairs' roots, for a third of the roots."""
    r2 = dx * dx + dy * dy + dz * dz + eps2
    if v2 > 0.0:
        best = min(best, r2 / v2)
    return min(best, r2 * math.sqrt(r2) / mass)


@jit_inline
def pair_free_fall_time(best: float, r2: float, mass: float) -> float:
    """``min(best, r^3 / (m_i + m_j))`` of a pair at softened squared distance ``r2``: the pair term of
    :func:`free_fall_time`, squared (as :func:`pair_collision_time`)."""
    return min(best, r2 * math.sqrt(r2) / mass)


@jit_inline
def accelerations(m: np.ndarray, x: np.ndarray, eps2: float, a: np.ndarray) -> None:
    """Write the accelerations ``a_i = sum_j m_j (x_j - x_i) / (|x_j - x_i|^2 + eps2)^(3/2)`` into ``a``."""
    n = m.shape[0]
    a[:, :] = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            dx = x[j, 0] - x[i, 0]
            dy = x[j, 1] - x[i, 1]
            dz = x[j, 2] - x[i, 2]
            inv_r3 = pair_acceleration(dx, dy, dz, eps2)
            mj = m[j] * inv_r3
            mi = m[i] * inv_r3
            a[i, 0] += mj * dx
            a[i, 1] += mj * dy
            a[i, 2] += mj * dz
            a[j, 0] -= mi * dx
            a[j, 1] -= mi * dy
            a[j, 2] -= mi * dz


@jit_inline
def accelerations_jerks(m: np.ndarray, x: np.ndarray, v: np.ndarray, eps2: float, a: np.ndarray, jerk: np.ndarray) -> None:
    """Write accelerations and their time derivatives (jerks) into ``a`` and ``jerk``.

    ``j_i = sum_j m_j [dv / r^3 - 3 (dr . dv) dr / r^5]`` with softened ``r^2 = |dr|^2 + eps2``.
    """
    n = m.shape[0]
    a[:, :] = 0.0
    jerk[:, :] = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            dx = x[j, 0] - x[i, 0]
            dy = x[j, 1] - x[i, 1]
            dz = x[j, 2] - x[i, 2]
            inv_r3, jx, jy, jz = pair_acceleration_jerk(dx, dy, dz, v[j, 0] - v[i, 0], v[j, 1] - v[i, 1], v[j, 2] - v[i, 2], eps2)
            a[i, 0] += m[j] * dx * inv_r3
            a[i, 1] += m[j] * dy * inv_r3
            a[i, 2] += m[j] * dz * inv_r3
            a[j, 0] -= m[i] * dx * inv_r3
            a[j, 1] -= m[i] * dy * inv_r3
            a[j, 2] -= m[i] * dz * inv_r3
            jerk[i, 0] += m[j] * jx
            jerk[i, 1] += m[j] * jy
            jerk[i, 2] += m[j] * jz
            jerk[j, 0] -= m[i] * jx
            jerk[j, 1] -= m[i] * jy
            jerk[j, 2] -= m[i] * jz


@jit
def potential_energy(m: np.ndarray, x: np.ndarray, eps2: float) -> float:
    """``-sum_{i<j} m_i m_j / sqrt(|x_i - x_j|^2 + eps2)``."""
    n = m.shape[0]
    energy = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            dx = x[j, 0] - x[i, 0]
            dy = x[j, 1] - x[i, 1]
            dz = x[j, 2] - x[i, 2]
            energy -= m[i] * m[j] / math.sqrt(dx * dx + dy * dy + dz * dz + eps2)
    return energy


@jit
def kinetic_energy(m: np.ndarray, v: np.ndarray) -> float:
    """``sum_i m_i |v_i|^2 / 2``."""
    energy = 0.0
    for i in range(m.shape[0]):
        energy += 0.5 * m[i] * (v[i, 0] ** 2 + v[i, 1] ** 2 + v[i, 2] ** 2)
    return energy


@jit_inline
def collision_time(m: np.ndarray, x: np.ndarray, v: np.ndarray, eps2: float) -> float:
    """``min over pairs of (r / |dv|, sqrt(r^3 / (m_i + m_j)))``: the time-step scale of AMUSE's Hermite.

    The second term is ``sqrt(r / a_ij)`` with the pair's relative acceleration ``a_ij = (m_i + m_j) / r^2``.
    A pair with zero relative velocity contributes only its free-fall time.
    """
    n = m.shape[0]
    best = np.inf
    for i in range(n):
        for j in range(i + 1, n):
            v2 = (v[j, 0] - v[i, 0]) ** 2 + (v[j, 1] - v[i, 1]) ** 2 + (v[j, 2] - v[i, 2]) ** 2
            best = pair_collision_time(best, x[j, 0] - x[i, 0], x[j, 1] - x[i, 1], x[j, 2] - x[i, 2], v2, eps2, m[i] + m[j])
    return math.sqrt(best)


@jit_inline
def free_fall_time(m: np.ndarray, x: np.ndarray, eps2: float) -> float:
    """``min over pairs of sqrt(r / a_ij) = sqrt(r^3 / (m_i + m_j))``."""
    n = m.shape[0]
    best = np.inf
    for i in range(n):
        for j in range(i + 1, n):
            r2 = (x[j, 0] - x[i, 0]) ** 2 + (x[j, 1] - x[i, 1]) ** 2 + (x[j, 2] - x[i, 2]) ** 2 + eps2
            best = pair_free_fall_time(best, r2, m[i] + m[j])
    return math.sqrt(best)
