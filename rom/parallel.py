"""MPI distribution of the blade: element partitions, subdomains, and POD of row-distributed snapshots.

Every rank owns a set of elements (METIS through pymetis where it installs, recursive coordinate
bisection otherwise), hence their integration points, and holds the rows of the nodes its elements touch
(interface nodes are held by several ranks). Inner products are sums of element contributions, so a
rank's share is computed with its *local* mass matrix (assembled over its own elements only) and the
shares add up exactly: nothing is counted twice. Quantities at integration points belong to one rank.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from adaptsim.linalg.tsqr import distributed_gram
from rom.mesh import TetMesh
from rom.pod import PODBasis, pod


def _dual_graph(mesh: TetMesh) -> tuple[np.ndarray, np.ndarray]:
    """CSR adjacency of elements that share a face."""
    from rom.fem.elements import TETRA_FACES

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
        from rom.fem.space import mass_matrix

        return mass_matrix(self.mesh)


def distributed_pod(local: np.ndarray, comm: Any, inner: Any = None, tolerance: float = 1e-4, max_modes: int | None = None) -> PODBasis:
    """:func:`rom.pod.pod` of snapshots distributed by rows (``local``: this rank's rows, ``inner``: its local
    inner-product matrix): the correlation and Gram matrices are summed over the ranks; every rank gets the
    same singular values and its rows of the modes."""
    return pod(local, tolerance=tolerance, max_modes=max_modes, gram=distributed_gram(comm, inner))


@contextmanager
def abort_on_error(comm: Any) -> Iterator[None]:
    """Run a block on every rank; if it raises on one rank, print that rank's message and abort the whole job.

    Without this, the other ranks would wait forever in their next collective operation. The message goes to
    stderr as one line ``adaptsim: rank R: error``, then ``comm.Abort(1)`` ends every process (``mpiexec``
    exits non-zero). A one-rank communicator re-raises instead, so serial runs keep their normal errors.
    """
    try:
        yield
    except BaseException as error:  # noqa: BLE001 - any failure, including KeyboardInterrupt, must end the job
        if comm.Get_size() == 1:
            raise
        sys.stderr.write(f"adaptsim: rank {comm.Get_rank()}: {type(error).__name__}: {error}\n")
        sys.stderr.flush()
        comm.Abort(1)
