"""Structured tetrahedral meshes of mapped boxes: boxes, hollow cylinders, and a turbine-blade-like body.

Every generator maps a grid on the parameter cube [0, 1]^3 through a smooth function and splits each
grid cell into 6 tetrahedra along its main diagonal (Kuhn's subdivision, conforming across cells).
Quadratic meshes take their mid-edge nodes from the same mapping (isoparametric, curved where the
geometry is), since the midpoint of every Kuhn edge is a point of the grid refined twice.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import permutations

import numpy as np

from rom.fem.elements import TETRA_EDGES
from rom.mesh import TetMesh

Mapping = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]

#: Kuhn's six tetrahedra of the unit cube: (6 tetrahedra, 4 vertices, 3 directions), vertices along monotone paths.
KUHN = np.array([[[0, 0, 0], *np.cumsum(np.eye(3, dtype=int)[list(order)], axis=0)] for order in permutations(range(3))])


def structured(mapping: Mapping, divisions: tuple[int, int, int], order: int = 2) -> TetMesh:
    """Tetrahedral mesh of the image of [0, 1]^3 under ``mapping(u, v, w) -> (n, 3) points``.

    Parameters
    ----------
    mapping
        Vectorised map of parameter coordinates to physical points.
    divisions
        Grid cells along u, v, w.
    order
        1 (4-node) or 2 (10-node) tetrahedra.
    """
    nu, nv, nw = (int(d) for d in divisions)
    divisions = (nu, nv, nw)
    if min(divisions) < 1:
        raise ValueError(f"divisions must be >= 1, got {divisions}")
    sizes = np.array(divisions) * 2 + 1  # the twice-refined grid holds every mid-edge point
    corners = np.stack(np.meshgrid(*[np.arange(d) * 2 for d in divisions], indexing="ij"), axis=-1).reshape(-1, 3)
    vertices = corners[:, None, None, :] + 2 * KUHN[None]  # (cells, 6, 4, 3)
    vertices = vertices.reshape(-1, 4, 3)
    if order == 2:
        mids = (vertices[:, TETRA_EDGES[:, 0]] + vertices[:, TETRA_EDGES[:, 1]]) // 2
        vertices = np.concatenate([vertices, mids], axis=1)
    flat = np.ravel_multi_index((vertices[..., 0], vertices[..., 1], vertices[..., 2]), sizes)
    used, cells = np.unique(flat, return_inverse=True)
    grid = np.array(np.unravel_index(used, sizes)).T / (sizes - 1)
    points = np.asarray(mapping(grid[:, 0], grid[:, 1], grid[:, 2]), dtype=float)
    return TetMesh(points, cells.reshape(flat.shape)).oriented()


def box(lengths: tuple[float, float, float], divisions: tuple[int, int, int], order: int = 2) -> TetMesh:
    """The box [0, Lx] x [0, Ly] x [0, Lz]."""
    lx, ly, lz = lengths
    return structured(lambda u, v, w: np.column_stack([lx * u, ly * v, lz * w]), divisions, order)


def cylinder_sector(
    inner: float, outer: float, height: float, divisions: tuple[int, int, int], angle: float = np.pi / 2, order: int = 2
) -> TetMesh:
    """A sector ``inner <= r <= outer``, ``0 <= theta <= angle``, ``0 <= z <= height`` about the z axis."""

    def mapping(u, v, w):
        r, theta = inner + (outer - inner) * u, angle * v
        return np.column_stack([r * np.cos(theta), r * np.sin(theta), height * w])

    return structured(mapping, divisions, order)


def naca_profile(x: np.ndarray, thickness: float, camber: float, camber_position: float) -> tuple[np.ndarray, np.ndarray]:
    """Camber line and half thickness of a NACA 4-digit profile at chord fractions ``x`` (chord 1)."""
    half = 5.0 * thickness * (0.2969 * np.sqrt(x) - 0.1260 * x - 0.3516 * x**2 + 0.2843 * x**3 - 0.1015 * x**4)
    p, m = camber_position, camber
    line = np.where(x < p, m / p**2 * (2 * p * x - x**2), m / (1 - p) ** 2 * ((1 - 2 * p) + 2 * p * x - x**2))
    return line, half


def blade_mapping(
    chord: float = 0.04,
    span: float = 0.08,
    hub_radius: float = 0.25,
    root_height: float = 0.015,
    twist_degrees: float = 25.0,
    thickness: float = 0.12,
    camber: float = 0.06,
) -> Mapping:
    """The map of the parameter cube onto a turbine-blade-like body: a cambered, twisted airfoil extruded radially
    on a wider rectangular root block (1.2 chord by 0.4 chord).

    The engine axis is x; the blade's span runs along z from ``hub_radius - root_height`` (the bottom
    of the root, clamped) to ``hub_radius + span`` (the tip); the chord lies along x at the hub.
    Along w in [0, 1] the cross-section blends from the root block's rectangle to the airfoil over
    the root (a conforming single-block mesh), then twists linearly to ``twist_degrees`` at the tip.
    Lengths in metres. The leading and trailing edges are blunted (chord fractions 0.02 to 0.98) so
    that no element degenerates.
    """
    height = root_height + span
    root_fraction = root_height / height

    def mapping(u, v, w):
        x_chord = 0.02 + 0.96 * 0.5 * (1.0 - np.cos(np.pi * u))  # cosine spacing, blunt edges
        line, half = naca_profile(x_chord, thickness, camber, 0.4)
        half = np.maximum(half, 0.01)
        y_airfoil = chord * (line + (2.0 * v - 1.0) * half)
        x_root, y_root = chord * 1.2 * (u - 0.5), chord * (0.5 * camber + (2.0 * v - 1.0) * 0.2)
        blend = np.clip(w / root_fraction, 0.0, 1.0) ** 2
        x = (1.0 - blend) * x_root + blend * chord * (x_chord - 0.5)
        y = (1.0 - blend) * y_root + blend * y_airfoil
        twist = np.radians(twist_degrees) * np.clip((w - root_fraction) / (1.0 - root_fraction), 0.0, 1.0)
        z = hub_radius - root_height + height * w
        return np.column_stack([x * np.cos(twist) - y * np.sin(twist), x * np.sin(twist) + y * np.cos(twist), z])

    return mapping


def blade(divisions: tuple[int, int, int] = (8, 2, 10), order: int = 2, **shape: float) -> TetMesh:
    """The blade of :func:`blade_mapping` (``shape``: its keyword arguments), ``divisions`` cells around the chord,
    through the thickness and along the whole height (root and airfoil).

    Quadratic meshes have straight edges (mid-edge nodes at the chords' midpoints): the strongly graded cosine
    spacing would fold curved coarse elements. (:func:`rom.mesh_blocks.layer_block` builds a range of its layers
    along the height alone, numbered alike.)
    """
    linear = structured(blade_mapping(**shape), divisions, 1)
    return linear.quadratic() if order == 2 else linear
