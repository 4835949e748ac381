"""Pairwise Newtonian gravity (G = 1, Plummer softening ``eps2 = softening**2``), compiled with Numba.

All functions take ``m`` (N,), ``x`` and ``v`` (N, 3) float64 arrays and write into
preallocated outputs, so the integrators allocate nothing per step.
"""

import math

import numpy as np

from nbody._jit import jit, jit_inline


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
            r2 = dx * dx + dy * dy + dz * dz + eps2
            inv_r3 = 1.0 / (r2 * math.sqrt(r2))
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
            dvx = v[j, 0] - v[i, 0]
            dvy = v[j, 1] - v[i, 1]
            dvz = v[j, 2] - v[i, 2]
            r2 = dx * dx + dy * dy + dz * dz + eps2
            inv_r2 = 1.0 / r2
            inv_r3 = inv_r2 / math.sqrt(r2)
            rv = 3.0 * (dx * dvx + dy * dvy + dz * dvz) * inv_r2
            jx = (dvx - rv * dx) * inv_r3
            jy = (dvy - rv * dy) * inv_r3
            jz = (dvz - rv * dz) * inv_r3
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
            dx = x[j, 0] - x[i, 0]
            dy = x[j, 1] - x[i, 1]
            dz = x[j, 2] - x[i, 2]
            r2 = dx * dx + dy * dy + dz * dz + eps2
            v2 = (v[j, 0] - v[i, 0]) ** 2 + (v[j, 1] - v[i, 1]) ** 2 + (v[j, 2] - v[i, 2]) ** 2
            if v2 > 0.0:
                best = min(best, math.sqrt(r2 / v2))
            best = min(best, math.sqrt(r2 * math.sqrt(r2) / (m[i] + m[j])))
    return best


@jit_inline
def free_fall_time(m: np.ndarray, x: np.ndarray, eps2: float) -> float:
    """``min over pairs of sqrt(r / a_ij) = sqrt(r^3 / (m_i + m_j))``."""
    n = m.shape[0]
    best = np.inf
    for i in range(n):
        for j in range(i + 1, n):
            r2 = (x[j, 0] - x[i, 0]) ** 2 + (x[j, 1] - x[i, 1]) ** 2 + (x[j, 2] - x[i, 2]) ** 2 + eps2
            best = min(best, math.sqrt(r2 * math.sqrt(r2) / (m[i] + m[j])))
    return best
