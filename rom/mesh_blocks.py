"""A range of layers of a structured mesh, built alone and numbered as in the whole mesh.

:func:`rom.geometry.structured` meshes a grid of ``(nu, nv, nw)`` cells; the blade (:func:`rom.geometry.blade`)
takes its linear mesh and adds straight mid-edge nodes (:meth:`rom.mesh.TetMesh.quadratic`). A rank of a
distributed run needs only the cells of its layers ``k0 <= k < k1`` along w. :func:`layer_block` builds them,
and their nodes, without the rest of the mesh, with the whole mesh's node and element numbers: the grid's corners
in lexicographic order first, then the edges in the order of their sorted end nodes, as
:meth:`~rom.mesh.TetMesh.quadratic` numbers them (an edge joins corner ``a`` to ``a + d``, ``d`` one of the seven
non-zero 0/1 steps, every one present where the grid goes on, so an edge's number follows from ``a`` and ``d``:
:func:`edge_numbers`). Memory and time are those of the block, plus one integer per grid corner.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rom.fem.elements import TETRA_EDGES
from rom.geometry import KUHN, Mapping
from rom.mesh import TetMesh

#: The seven steps from a corner to the other end of an edge, in the order of the end's number.
STEPS = np.array([[0, 0, 1], [0, 1, 0], [0, 1, 1], [1, 0, 0], [1, 0, 1], [1, 1, 0], [1, 1, 1]])


@dataclass
class MeshBlock:
    """Part of a mesh: its own :class:`~rom.mesh.TetMesh` (local numbering) and the whole mesh's numbers of its
    nodes and elements.

    Attributes
    ----------
    mesh
        The block's nodes (in increasing global number) and tetrahedra.
    nodes, elements
        The global numbers of its nodes and of its tetrahedra (increasing).
    n_nodes, n_elements
        The whole mesh's counts.
    lower
        Per node, whether the block of the layers below holds it too (it lies on the block's first plane, and
        that is not the mesh's first): all False for the first layers.
    """

    mesh: TetMesh
    nodes: np.ndarray
    elements: np.ndarray
    n_nodes: int
    n_elements: int
    lower: np.ndarray


def layer_ranges(layers: int, parts: int) -> np.ndarray:
    """``parts + 1`` boundaries splitting ``layers`` layers into ``parts`` ranges of nearly equal size (a
    ``ValueError`` if there are fewer layers than parts)."""
    if not 1 <= parts <= layers:
        raise ValueError(f"cannot split {layers} layers into {parts} parts (1 to {layers})")
    return np.round(np.linspace(0, layers, parts + 1)).astype(np.int64)


def edges_before(divisions: tuple[int, int, int]) -> np.ndarray:
    """For each corner of the grid (lexicographic order), how many edges start at the corners before it, and the
    number of edges last: a corner starts one edge per step that stays in the grid."""
    shape = np.array(divisions) + 1
    every = np.stack(np.unravel_index(np.arange(int(shape.prod())), tuple(shape)), axis=1)
    return np.concatenate([[0], np.cumsum((1 << (every < np.array(divisions)).sum(axis=1)) - 1)])


def edge_numbers(start: np.ndarray, step: np.ndarray, divisions: tuple[int, int, int]) -> np.ndarray:
    """The whole mesh's numbers of the edges from corners ``start`` (grid coordinates ``(n, 3)``) along ``step``
    (0/1 ``(n, 3)``): after every corner, the edges in the order of their (first, second) corner numbers."""
    shape = np.array(divisions) + 1
    corner = np.ravel_multi_index(tuple(start.T), tuple(shape))
    # the position of ``step`` among the steps that stay in the grid from ``start``, in the order of STEPS
    stays = np.all((STEPS[None, :, :] == 0) | (start[:, None, :] < np.array(divisions)), axis=2)  # (n, 7)
    index = np.argmax(np.all(STEPS[None, :, :] == step[:, None, :], axis=2), axis=1)
    position = np.sum(stays & (np.arange(7)[None, :] < index[:, None]), axis=1)
    return int(shape.prod()) + edges_before(divisions)[corner] + position


def layer_block(mapping: Mapping, divisions: tuple[int, int, int], layers: tuple[int, int], order: int = 2) -> MeshBlock:
    """The cells ``layers[0] <= k < layers[1]`` (along w) of ``structured(mapping, divisions, 1)``, with straight
    mid-edge nodes when ``order`` is 2 (:func:`rom.geometry.blade`'s construction), numbered as in the whole mesh.

    Parameters
    ----------
    mapping
        Vectorised map of parameter coordinates to physical points (:func:`rom.geometry.structured`).
    divisions
        Grid cells along u, v, w of the whole mesh.
    layers
        The block's first layer and one past its last.
    order
        1 (4-node) or 2 (10-node) tetrahedra.
    """
    nu, nv, nw = (int(d) for d in divisions)
    first, last = (int(k) for k in layers)
    if not 0 <= first < last <= nw:
        raise ValueError(f"layers {first}..{last} are not a range of the mesh's {nw} layers")
    shape = (nu + 1, nv + 1, nw + 1)
    cells = np.stack(np.meshgrid(np.arange(nu), np.arange(nv), np.arange(first, last), indexing="ij"), axis=-1).reshape(-1, 3)
    elements = (6 * np.asarray(np.ravel_multi_index(tuple(cells.T), (nu, nv, nw)))[:, None] + np.arange(6)).ravel()
    vertices = (cells[:, None, None, :] + KUHN[None]).reshape(-1, 4, 3)  # grid coordinates of each tetrahedron's vertices
    corner_numbers = np.ravel_multi_index((vertices[..., 0], vertices[..., 1], vertices[..., 2]), shape)
    corners, local = np.unique(corner_numbers, return_inverse=True)
    grid = np.array(np.unravel_index(corners, shape)).T
    points = np.asarray(mapping(*(grid / np.array(divisions)).T), dtype=float)
    linear = TetMesh(points, local.reshape(-1, 4)).oriented()
    n_corners = int(np.prod(shape))
    n_elements = 6 * nu * nv * nw
    lower = (grid[:, 2] == first) & (first > 0)
    if order == 1:
        return MeshBlock(linear, corners, elements, n_corners, n_elements, lower)
    # each edge's local end corners, first < second (local numbers follow the global ones: ``corners`` is sorted)
    ends = np.sort(linear.cells[:, TETRA_EDGES], axis=2).reshape(-1, 2)
    start = grid[ends[:, 0]]
    numbers = edge_numbers(start, grid[ends[:, 1]] - start, (nu, nv, nw))
    edges, first_of, inverse = np.unique(numbers, return_index=True, return_inverse=True)
    a, b = ends[first_of].T
    midpoints = 0.5 * (points[a] + points[b])
    cells_10 = np.hstack([linear.cells, corners.size + inverse.reshape(-1, 6)])
    return MeshBlock(
        TetMesh(np.vstack([points, midpoints]), cells_10),
        np.concatenate([corners, edges]),
        elements,
        int(np.prod(2 * np.array(divisions) + 1)),  # every point of the twice-refined grid is a corner or an edge's middle
        n_elements,
        np.concatenate([lower, lower[a] & lower[b]]),
    )
