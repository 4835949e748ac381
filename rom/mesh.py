"""Tetrahedral meshes: the container, checks, conversion to quadratic elements, and meshio input/output."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adaptsim.errors import InputError, first_line
from rom.fem.elements import TETRA_EDGES, TETRA_FACES, order_of


def _edge_index(a: int, b: int) -> int:
    for index, (i, j) in enumerate(TETRA_EDGES):
        if {i, j} == {a, b}:
            return 4 + index
    raise ValueError((a, b))


#: Local indices of the nodes of each face (3, or 6 in 6-node-triangle order), per element order.
FACE_NODES = {
    1: TETRA_FACES,
    2: np.array([[a, b, c, _edge_index(a, b), _edge_index(b, c), _edge_index(a, c)] for a, b, c in TETRA_FACES]),
}
#: Swapping vertices 1 and 2 of a 10-node tetrahedron permutes its edge nodes like this.
_FLIP = {1: [0, 2, 1, 3], 2: [0, 2, 1, 3, 6, 5, 4, 7, 9, 8]}


@dataclass
class TetMesh:
    """Nodes (n_nodes, 3) and tetrahedra (n_cells, 4 or 10) with VTK node order.

    Parameters
    ----------
    points
        Node coordinates (m).
    cells
        Node indices of each tetrahedron: 4 (linear) or 10 (quadratic, isoparametric).
    """

    points: np.ndarray
    cells: np.ndarray

    def __post_init__(self) -> None:
        self.points = np.ascontiguousarray(self.points, dtype=float)
        self.cells = np.ascontiguousarray(self.cells, dtype=np.int64)

    @property
    def order(self) -> int:
        """1 for 4-node, 2 for 10-node tetrahedra."""
        return order_of(self.cells.shape[1])

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return self.points.shape[0]

    @property
    def n_cells(self) -> int:
        """Number of tetrahedra."""
        return self.cells.shape[0]

    def signed_volumes(self) -> np.ndarray:
        """Signed volumes of the straight tetrahedra through each cell's vertices."""
        x = self.points[self.cells[:, :4]]
        return np.einsum("ni,ni->n", np.cross(x[:, 1] - x[:, 0], x[:, 2] - x[:, 0]), x[:, 3] - x[:, 0]) / 6.0

    def check(self) -> TetMesh:
        """Raise an :class:`~adaptsim.errors.InputError` for non-finite nodes, bad indices, inverted or degenerate elements."""
        if self.points.ndim != 2 or self.points.shape[1] != 3 or self.cells.ndim != 2 or self.cells.shape[1] not in (4, 10):
            raise InputError("needs points (n, 3) and tetrahedra with 4 or 10 nodes")
        if self.n_cells == 0:
            raise InputError("has no tetrahedra")
        if not np.all(np.isfinite(self.points)):
            raise InputError(f"node {int(np.flatnonzero(~np.isfinite(self.points).all(axis=1))[0])} has a non-finite coordinate")
        if self.cells.min() < 0 or self.cells.max() >= self.n_nodes:
            raise InputError(f"a tetrahedron refers to a node outside 0..{self.n_nodes - 1}")
        volumes = self.signed_volumes()
        scale = np.ptp(self.points, axis=0).max() ** 3
        degenerate = np.abs(volumes) <= 1e-14 * scale
        if np.any(degenerate):
            raise InputError(f"element {int(np.flatnonzero(degenerate)[0])} is degenerate (zero volume)")
        if np.any(volumes < 0):
            first = int(np.flatnonzero(volumes < 0)[0])
            raise InputError(f"element {first} is inverted (negative volume {volumes[first]:.3g})")
        return self

    def oriented(self) -> TetMesh:
        """The same mesh with every tetrahedron renumbered to a positive volume."""
        cells = self.cells.copy()
        negative = self.signed_volumes() < 0
        cells[negative] = cells[negative][:, _FLIP[self.order]]
        return TetMesh(self.points, cells)

    def quadratic(self) -> TetMesh:
        """The 10-node mesh with straight mid-edge nodes (unchanged if already quadratic)."""
        if self.order == 2:
            return self
        edges = np.sort(self.cells[:, TETRA_EDGES].reshape(-1, 2), axis=1)
        unique, inverse = np.unique(edges, axis=0, return_inverse=True)
        midpoints = 0.5 * (self.points[unique[:, 0]] + self.points[unique[:, 1]])
        edge_nodes = self.n_nodes + inverse.reshape(self.n_cells, 6)
        return TetMesh(np.vstack([self.points, midpoints]), np.hstack([self.cells, edge_nodes]))

    def boundary_faces(self) -> np.ndarray:
        """Boundary faces (n_faces, 3 or 6 nodes), oriented with outward normals."""
        local = FACE_NODES[self.order]
        faces = self.cells[:, local].reshape(-1, local.shape[1])
        key = np.sort(faces[:, :3], axis=1)
        _, index, counts = np.unique(key, axis=0, return_index=True, return_counts=True)
        return faces[np.sort(index[counts == 1])]

    def faces_where(self, predicate: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """Boundary faces whose vertices all satisfy ``predicate(points) -> bool array``."""
        faces = self.boundary_faces()
        inside = predicate(self.points)
        return faces[inside[faces[:, :3]].all(axis=1)]

    def nodes_where(self, predicate: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """Indices of the nodes satisfying ``predicate(points) -> bool array``."""
        return np.flatnonzero(predicate(self.points))


def read_mesh(path: str | Path) -> TetMesh:
    """Read the tetrahedra (4 or 10 nodes) of any file meshio reads (Gmsh .msh, VTU, ...), checked (an
    :class:`~adaptsim.errors.InputError` when it cannot be read or is not a valid mesh)."""
    import meshio

    path = Path(path)
    if path.is_dir():
        raise InputError(f"{str(path)!r} is a folder, not a mesh file")
    if not path.is_file():
        raise InputError(f"mesh file {str(path)!r} does not exist")
    if path.stat().st_size == 0:
        raise InputError(f"mesh file {str(path)!r} is empty")
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said), contextlib.redirect_stdout(said):  # meshio prints before some of its exits
            mesh = meshio.read(path)
    except (Exception, SystemExit) as error:  # meshio raises many types (even SystemExit) on unreadable or truncated files
        reason = first_line(error, text=" ".join(said.getvalue().split()) if isinstance(error, SystemExit) else None)
        raise InputError(f"cannot read mesh {str(path)!r} ({type(error).__name__}: {reason})") from None
    blocks = [block.data for block in mesh.cells if block.type in ("tetra10", "tetra")]
    if not blocks:
        raise InputError(f"mesh {str(path)!r} has no tetrahedra")
    cells = max(blocks, key=lambda b: b.shape[1])  # prefer quadratic cells when both exist
    used = np.unique(cells)
    renumber = np.full(mesh.points.shape[0], -1)
    renumber[used] = np.arange(used.size)
    points = np.asarray(mesh.points, dtype=float)
    if points.shape[1] == 2:
        points = np.column_stack([points, np.zeros(len(points))])
    return TetMesh(points[used], renumber[cells]).check()


def write_vtu(path: str | Path, mesh: TetMesh, point_data: dict[str, np.ndarray], cell_data: dict[str, np.ndarray]) -> None:
    """Write a VTU file for ParaView (atomically: temporary file, then rename)."""
    import meshio

    from adaptsim.results import atomic_path

    cell_type = "tetra10" if mesh.order == 2 else "tetra"
    out = meshio.Mesh(mesh.points, [(cell_type, mesh.cells)], point_data=point_data, cell_data={k: [v] for k, v in cell_data.items()})
    with atomic_path(Path(path)) as temporary:
        meshio.write(temporary, out, file_format="vtu")
