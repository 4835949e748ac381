"""Quadrature rules on the reference triangle and tetrahedron (vertices at the origin and the unit points)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy.special import roots_jacobi


@dataclass(frozen=True)
class Rule:
    """Points (n, dim) in reference coordinates and weights (n,) summing to the reference volume."""

    points: np.ndarray
    weights: np.ndarray

    @property
    def size(self) -> int:
        """Number of points."""
        return self.weights.size


def _tetrahedron_symmetric(degree: int) -> Rule | None:
    if degree <= 1:
        return Rule(np.full((1, 3), 0.25), np.array([1.0 / 6.0]))
    if degree == 2:
        a, b = 0.5854101966249685, 0.1381966011250105
        points = np.array([[b, b, b], [a, b, b], [b, a, b], [b, b, a]])
        return Rule(points, np.full(4, 1.0 / 24.0))
    return None


@cache
def collapsed(dim: int, degree: int) -> Rule:
    """Conical-product (collapsed Gauss-Jacobi) rule on the reference simplex, exact for ``degree``, positive weights."""
    m = degree // 2 + 1
    factors = []
    for k in range(dim):
        power = dim - 1 - k  # Jacobi weight (1 - t)^power after the collapse
        x, w = roots_jacobi(m, power, 0.0)
        factors.append(((x + 1.0) / 2.0, w / 2.0 ** (power + 1)))
    grids = np.meshgrid(*[f[0] for f in factors], indexing="ij")
    weights = np.ones_like(grids[0])
    for k, f in enumerate(factors):
        shape = [1] * dim
        shape[k] = m
        weights = weights * f[1].reshape(shape)
    t = [g.ravel() for g in grids]
    points = np.empty((t[0].size, dim))
    scale = np.ones_like(t[0])
    for k in range(dim):
        points[:, k] = scale * t[k]
        scale = scale * (1.0 - t[k])
    return Rule(points, weights.ravel())


def tetrahedron(degree: int) -> Rule:
    """A rule exact for polynomials of ``degree`` on the reference tetrahedron (volume 1/6).

    Degrees 1 and 2 use the classical 1- and 4-point symmetric rules; higher degrees a collapsed
    Gauss-Jacobi product rule.
    """
    return _tetrahedron_symmetric(degree) or collapsed(3, degree)


def triangle(degree: int) -> Rule:
    """A rule exact for polynomials of ``degree`` on the reference triangle (area 1/2)."""
    return collapsed(2, degree)
