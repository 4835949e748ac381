"""The compiled event checks of the time loop: an escaping body, the closest pair."""

from __future__ import annotations

import math

import numpy as np

from nbody._jit import jit


@jit
def escaping_body(m: np.ndarray, x: np.ndarray, v: np.ndarray, radius: float) -> int:
    """Index of a body farther than ``radius`` from the centre of mass of the others and unbound from them, else -1.

    Unbound: positive energy of the two-body problem made of the body and the others lumped at their
    centre of mass.
    """
    n = m.shape[0]
    total = 0.0
    for i in range(n):
        total += m[i]
    for i in range(n):
        rest = total - m[i]
        cx = np.zeros(3)
        cv = np.zeros(3)
        for j in range(n):
            if j != i:
                for k in range(3):
                    cx[k] += m[j] * x[j, k] / rest
                    cv[k] += m[j] * v[j, k] / rest
        d2 = 0.0
        u2 = 0.0
        for k in range(3):
            d2 += (x[i, k] - cx[k]) ** 2
            u2 += (v[i, k] - cv[k]) ** 2
        distance = math.sqrt(d2)
        if distance > radius:
            reduced = m[i] * rest / total
            if 0.5 * reduced * u2 - m[i] * rest / distance > 0.0:
                return i
    return -1


@jit
def closest_pair(x: np.ndarray) -> tuple[float, int, int]:
    """``(distance, i, j)`` of the closest pair of bodies."""
    n = x.shape[0]
    best = np.inf
    bi = -1
    bj = -1
    for i in range(n):
        for j in range(i + 1, n):
            d = math.sqrt((x[j, 0] - x[i, 0]) ** 2 + (x[j, 1] - x[i, 1]) ** 2 + (x[j, 2] - x[i, 2]) ** 2)
            if d < best:
                best = d
                bi = i
                bj = j
    return best, bi, bj
