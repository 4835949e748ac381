"""Element partitions of a tetrahedral mesh (METIS, or recursive coordinate bisection) and one rank's subdomain."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from rom.fem.elements import TETRA_FACES
from rom.fem.space import mass_matrix
from rom.mesh import TetMesh


def _dual_graph(mesh: TetMesh) -> tuple[np.ndarray, np.ndarray]:
    """CSR adjacency of elements that share a face."""

    faces = np.sort(mesh.cells[:, TETRA_FACES].reshape(-1, 3), axis=1)
    owner = np.repeat(np.arange(mesh.n_cells), 4)
    _, inverse = np.unique(faces, axis=0, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    shared = np.flatnonzero(np.diff(inverse[order]) == 0)
    a, b = owner[order[shared]], owner[order[shared + 1]]
    graph = sp.coo_matrix((np.ones(2 * a.size), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(mesh.n_cells,) * 2).tocsr()
    return graph.indptr, graph.indices


def _bisection(centroids: np.ndarray, parts: int) -> np.ndarray:
    """Recursive coordinate bisection into ``parts`` blocks of (nearly) equal size."""
    labels = np.zeros(len(centroids), dtype=np.int64)
    if parts == 1:
        return labels
    axis = int(np.argmax(np.ptp(centroids, axis=0)))
    order = np.argsort(centroids[:, axis], kind="stable")
    left_parts = parts // 2
    split = int(round(len(centroids) * left_parts / parts))
    left, right = order[:split], order[split:]
    labels[left] = _bisection(centroids[left], left_parts)
    labels[right] = left_parts + _bisection(centroids[right], parts - left_parts)
    return labels


def partition_elements(mesh: TetMesh, parts: int, method: str = "auto") -> np.ndarray:
    """Part (0..parts-1) of every element: ``metis`` (pymetis), ``geometric`` (coordinate bisection), or ``auto``."""
    if parts < 1:
        raise ValueError(f"parts must be >= 1, got {parts}")
    if parts == 1:
        return np.zeros(mesh.n_cells, dtype=np.int64)
    if method in ("auto", "metis"):
        try:
            import pymetis
        except ImportError:
            if method == "metis":
                raise
        else:
            indptr, indices = _dual_graph(mesh)
            _, membership = pymetis.part_graph(parts, adjacency=pymetis.CSRAdjacency(indptr, indices))
            labels = np.asarray(membership, dtype=np.int64)
            if np.unique(labels).size == parts:
                return labels
    centroids = mesh.points[mesh.cells[:, :4]].mean(axis=1)
    return _bisection(centroids, parts)


@dataclass
class Subdomain:
    """One rank's share: its elements, the nodes they touch (with dofs), and their integration points."""

    cells: np.ndarray
    nodes: np.ndarray
    dofs: np.ndarray
    points: np.ndarray
    mesh: TetMesh

    @classmethod
    def of(cls, mesh: TetMesh, labels: np.ndarray, part: int, points_per_element: int) -> Subdomain:
        """The subdomain of ``part`` given the element labels."""
        cells = np.flatnonzero(labels == part)
        nodes, local = np.unique(mesh.cells[cells], return_inverse=True)
        dofs = (3 * nodes[:, None] + np.arange(3)).ravel()
        points = (points_per_element * cells[:, None] + np.arange(points_per_element)).ravel()
        return cls(cells, nodes, dofs, points, TetMesh(mesh.points[nodes], local.reshape(cells.size, -1)))

    def mass_matrix(self) -> sp.csr_matrix:
        """The mass matrix of this rank's elements on its nodes (the global one is the sum over ranks)."""

        return mass_matrix(self.mesh)
