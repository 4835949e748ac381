"""Symmetric second-order tensors in Mandel notation (6-vectors), batched over integration points.

Mandel components ``(xx, yy, zz, sqrt2 yz, sqrt2 xz, sqrt2 xy)`` make the double contraction of two
tensors the dot product of their 6-vectors and the fourth-order tensors 6x6 matrices, so tangents
stay symmetric when the physics is.
"""

from __future__ import annotations

import numpy as np

SQRT2 = float(np.sqrt(2.0))
#: The identity tensor.
IDENTITY = np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0])
#: Fourth-order identity on symmetric tensors.
IDENTITY4 = np.eye(6)
#: ``I (x) I``.
VOLUMETRIC4 = np.outer(IDENTITY, IDENTITY)


def deviator(a: np.ndarray) -> np.ndarray:
    """The deviatoric part of tensors ``a`` (..., 6)."""
    return a - (a[..., :3].sum(axis=-1) / 3.0)[..., None] * IDENTITY


def von_mises(a: np.ndarray) -> np.ndarray:
    """``J2(a) = sqrt(3/2 dev(a) : dev(a))`` of tensors ``a`` (..., 6)."""
    d = deviator(a)
    return np.sqrt(1.5 * (d * d).sum(axis=-1))


def to_matrix(a: np.ndarray) -> np.ndarray:
    """Mandel 6-vectors (..., 6) to symmetric 3x3 matrices (..., 3, 3)."""
    out = np.empty(a.shape[:-1] + (3, 3))
    out[..., 0, 0], out[..., 1, 1], out[..., 2, 2] = a[..., 0], a[..., 1], a[..., 2]
    out[..., 1, 2] = out[..., 2, 1] = a[..., 3] / SQRT2
    out[..., 0, 2] = out[..., 2, 0] = a[..., 4] / SQRT2
    out[..., 0, 1] = out[..., 1, 0] = a[..., 5] / SQRT2
    return out


def from_matrix(m: np.ndarray) -> np.ndarray:
    """Symmetric 3x3 matrices (..., 3, 3) to Mandel 6-vectors (..., 6)."""
    return np.stack([m[..., 0, 0], m[..., 1, 1], m[..., 2, 2], SQRT2 * m[..., 1, 2], SQRT2 * m[..., 0, 2], SQRT2 * m[..., 0, 1]], axis=-1)


def isotropic_stiffness(young: np.ndarray, poisson: np.ndarray) -> np.ndarray:
    """Isotropic elasticity tensors ``2 G I4 + lambda I (x) I`` (n, 6, 6) for moduli arrays (n,)."""
    young, poisson = np.atleast_1d(young), np.atleast_1d(poisson)
    shear = young / (2.0 * (1.0 + poisson))
    lame = young * poisson / ((1.0 + poisson) * (1.0 - 2.0 * poisson))
    return 2.0 * shear[:, None, None] * IDENTITY4 + lame[:, None, None] * VOLUMETRIC4
