"""Consistent nodal forces of body forces and surface tractions."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rom.fem import quadrature
from rom.fem.elements import triangle
from rom.fem.space import VectorSpace

#: ``traction(points (n, 3), unit outward normals (n, 3)) -> (n, 3)`` in Pa.
Traction = Callable[[np.ndarray, np.ndarray], np.ndarray]


def body_force(space: VectorSpace, density: np.ndarray | float, acceleration: np.ndarray) -> np.ndarray:
    """``f_a = int N_a rho b dV`` for a body acceleration field ``acceleration`` (n_points, 3) at the integration points."""
    weighted = (np.asarray(density) * space.weights.ravel())[:, None] * acceleration
    local = np.einsum("qa,eqi->eai", space.shape_values, weighted.reshape(space.weights.shape + (3,)))
    return np.bincount(space.dofs.ravel(), local.reshape(space.mesh.n_cells, -1).ravel(), minlength=space.n_dofs)


def centrifugal_acceleration(points: np.ndarray, omega: float, axis: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """``omega^2 r_perp``: the centrifugal acceleration about an axis through ``origin`` (rad/s, unit axis)."""
    axis = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    relative = points - np.asarray(origin, dtype=float)
    return omega**2 * (relative - np.outer(relative @ axis, axis))


def surface_force(space: VectorSpace, faces: np.ndarray, traction: Traction, degree: int = 4) -> np.ndarray:
    """``f_a = int_faces N_a t(x, n) dA`` over boundary faces (n_faces, 3 or 6 nodes, outward oriented)."""
    element = triangle(space.mesh.order)
    rule = quadrature.triangle(degree)
    values = element.shape(rule.points)  # (nq, nn)
    gradients = element.gradients(rule.points)  # (nq, nn, 2)
    coords = space.mesh.points[faces]  # (nf, nn, 3)
    points = np.einsum("qa,fai->fqi", values, coords)
    tangents = np.einsum("qak,fai->fqki", gradients, coords)  # (nf, nq, 2, 3)
    normal_area = np.cross(tangents[:, :, 0], tangents[:, :, 1])  # |n| = area scaling
    area = np.linalg.norm(normal_area, axis=-1)
    unit = normal_area / area[..., None]
    t = traction(points.reshape(-1, 3), unit.reshape(-1, 3)).reshape(points.shape)
    local = np.einsum("qa,fqi,fq->fai", values, t, area * rule.weights)
    dofs = (3 * faces[:, :, None] + np.arange(3)).reshape(-1)
    return np.bincount(dofs, local.reshape(-1), minlength=space.n_dofs)
