"""The compiled event checks of the time loop: an escaping body, the closest pair, a collision."""

from __future__ import annotations

import math

import numpy as np

from nbody._jit import jit, jit_inline


@jit_inline
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


@jit_inline
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


@jit
def two_body_elements(total_mass: float, dx: np.ndarray, dv: np.ndarray) -> tuple[float, float, float, float]:
    """``(r, |r x v|^2, orbital energy per reduced mass, eccentricity)`` of the two-body orbit through ``dx, dv``."""
    r = math.sqrt(dx[0] ** 2 + dx[1] ** 2 + dx[2] ** 2)
    hx = dx[1] * dv[2] - dx[2] * dv[1]
    hy = dx[2] * dv[0] - dx[0] * dv[2]
    hz = dx[0] * dv[1] - dx[1] * dv[0]
    h2 = hx * hx + hy * hy + hz * hz
    orbital_energy = 0.5 * (dv[0] ** 2 + dv[1] ** 2 + dv[2] ** 2) - total_mass / r
    eccentricity = math.sqrt(max(0.0, 1.0 + 2.0 * orbital_energy * h2 / (total_mass * total_mass)))
    return r, h2, orbital_energy, eccentricity


@jit
def pericentre(total_mass: float, dx: np.ndarray, dv: np.ndarray) -> float:
    """Pericentre distance ``p / (1 + e)`` of the two-body orbit with relative position ``dx`` and velocity ``dv``."""
    _, h2, _, eccentricity = two_body_elements(total_mass, dx, dv)
    return h2 / total_mass / (1.0 + eccentricity)


@jit
def time_since_pericentre(total_mass: float, dx: np.ndarray, dv: np.ndarray) -> float:
    """Time since the pericentre of the two-body orbit through ``dx, dv`` (negative before it), from Kepler's equation."""
    r, h2, orbital_energy, eccentricity = two_body_elements(total_mass, dx, dv)
    radial = dx[0] * dv[0] + dx[1] * dv[1] + dx[2] * dv[2]
    sign = 1.0 if radial >= 0.0 else -1.0
    if abs(orbital_energy) * r < 1e-12 * total_mass:  # parabolic (Barker's equation)
        q = h2 / (2.0 * total_mass)
        tan_half = math.sqrt(max(0.0, r / q - 1.0))
        return sign * math.sqrt(2.0 * q**3 / total_mass) * (tan_half + tan_half**3 / 3.0)
    a = -total_mass / (2.0 * orbital_energy)
    ratio = (1.0 - r / a) / eccentricity if eccentricity > 0.0 else 1.0
    if a > 0.0:  # ellipse: r = a (1 - e cos E)
        anomaly = math.acos(min(1.0, max(-1.0, ratio)))
        return sign * (anomaly - eccentricity * math.sin(anomaly)) * math.sqrt(a**3 / total_mass)
    anomaly = math.acosh(max(1.0, ratio))  # hyperbola: r = a (1 - e cosh F), a < 0
    return sign * (eccentricity * math.sinh(anomaly) - anomaly) * math.sqrt((-a) ** 3 / total_mass)


@jit
def passed_inside(total_mass: float, dx: np.ndarray, dv: np.ndarray, radial_before: float, interval: float, reach: float) -> bool:
    """Whether a pair that was approaching (``radial_before < 0``) passed, in the last ``interval``, a pericentre of
    its two-body orbit closer than ``reach`` (a turn-around by a third body is not a pericentre passage)."""
    radial = dx[0] * dv[0] + dx[1] * dv[1] + dx[2] * dv[2]
    if not (radial_before < 0.0 <= radial) or pericentre(total_mass, dx, dv) >= reach:
        return False
    return time_since_pericentre(total_mass, dx, dv) <= interval


@jit
def colliding_pair(m: np.ndarray, x: np.ndarray, v: np.ndarray, radii: np.ndarray, approach: np.ndarray, interval: float) -> int:
    """``i * N + j`` of the first pair that touched (distance below ``radii[i] + radii[j]``), else -1.

    A pair is checked where it is now and, when it passed the pericentre of its two-body orbit in the last
    ``interval`` (:func:`passed_inside`; ``approach`` holds each pair's radial velocity at the last check and is
    updated here), at that pericentre: a step over a grazing collision, or through a collision and out
    again (a regularised step), does not miss it.
    """
    n = m.shape[0]
    found = -1
    pair = 0
    dx = np.empty(3)
    dv = np.empty(3)
    for i in range(n):
        for j in range(i + 1, n):
            for k in range(3):
                dx[k] = x[j, k] - x[i, k]
                dv[k] = v[j, k] - v[i, k]
            reach = radii[i] + radii[j]
            touching = dx[0] ** 2 + dx[1] ** 2 + dx[2] ** 2 < reach * reach
            if found < 0 and (touching or passed_inside(m[i] + m[j], dx, dv, approach[pair], interval, reach)):
                found = i * n + j
            approach[pair] = dx[0] * dv[0] + dx[1] * dv[1] + dx[2] * dv[2]
            pair += 1
    return found


@jit_inline
def pair_state(x: np.ndarray, v: np.ndarray, i: int, j: int, dx: np.ndarray, dv: np.ndarray) -> tuple[float, float]:
    """Write ``x_j - x_i`` and ``v_j - v_i`` into ``dx, dv``; returns the distance and the radial velocity ``dx . dv``."""
    for k in range(3):
        dx[k] = x[j, k] - x[i, k]
        dv[k] = v[j, k] - v[i, k]
    return math.sqrt(dx[0] ** 2 + dx[1] ** 2 + dx[2] ** 2), dx[0] * dv[0] + dx[1] * dv[1] + dx[2] * dv[2]
