"""Lagrange simplex elements: shape functions and their reference gradients.

Node order follows VTK (and meshio): the vertices, then the mid-edge nodes of edges
(0,1), (1,2), (0,2), (0,3), (1,3), (2,3) for the 10-node tetrahedron and (0,1), (1,2), (0,2) for the
6-node triangle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TETRA_EDGES = np.array([[0, 1], [1, 2], [0, 2], [0, 3], [1, 3], [2, 3]])
TRIANGLE_EDGES = np.array([[0, 1], [1, 2], [0, 2]])
#: The faces of a tetrahedron (vertex indices), each oriented with its normal pointing out.
TETRA_FACES = np.array([[0, 2, 1], [0, 1, 3], [1, 2, 3], [0, 3, 2]])


@dataclass(frozen=True)
class SimplexElement:
    """A Lagrange element of ``order`` 1 or 2 on the reference simplex of dimension ``dim`` (2 or 3)."""

    dim: int
    order: int

    @property
    def n_nodes(self) -> int:
        """Nodes per element."""
        return (self.dim + 1) if self.order == 1 else (self.dim + 1) * (self.dim + 2) // 2

    @property
    def edges(self) -> np.ndarray:
        """Vertex pairs whose midpoints carry the quadratic nodes."""
        return TETRA_EDGES if self.dim == 3 else TRIANGLE_EDGES

    def _barycentric(self, points: np.ndarray) -> np.ndarray:
        return np.column_stack([1.0 - points.sum(axis=1), points])

    def shape(self, points: np.ndarray) -> np.ndarray:
        """Shape-function values (n_points, n_nodes) at reference points (n_points, dim)."""
        lam = self._barycentric(points)
        if self.order == 1:
            return lam
        edges = self.edges
        return np.column_stack([lam * (2.0 * lam - 1.0), 4.0 * lam[:, edges[:, 0]] * lam[:, edges[:, 1]]])

    def gradients(self, points: np.ndarray) -> np.ndarray:
        """Reference gradients (n_points, n_nodes, dim) of the shape functions."""
        n = points.shape[0]
        dlam = np.vstack([-np.ones(self.dim), np.eye(self.dim)])  # (dim + 1, dim)
        if self.order == 1:
            return np.broadcast_to(dlam, (n, self.dim + 1, self.dim)).copy()
        lam = self._barycentric(points)
        vertex = (4.0 * lam - 1.0)[:, :, None] * dlam[None]
        i, j = self.edges[:, 0], self.edges[:, 1]
        edge = 4.0 * (lam[:, i, None] * dlam[None, j] + lam[:, j, None] * dlam[None, i])
        return np.concatenate([vertex, edge], axis=1)


def tetrahedron(order: int) -> SimplexElement:
    """The 4-node (order 1) or 10-node (order 2) tetrahedron."""
    return SimplexElement(3, order)


def triangle(order: int) -> SimplexElement:
    """The 3-node or 6-node triangle (faces of the tetrahedra)."""
    return SimplexElement(2, order)


def order_of(nodes_per_cell: int) -> int:
    """Element order from the number of nodes of a tetrahedron."""
    return {4: 1, 10: 2}[nodes_per_cell]
