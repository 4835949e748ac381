"""Which rows of the blade's fields a rank holds (:class:`Layout`), and the reductions that make them one field.

The serial layout holds everything and communicates nothing, so every algorithm of :mod:`rom.online` runs
unchanged on one process and under ``mpiexec``: a function that works on distributed rows takes a
:class:`Layout`, never a bare communicator.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal, cast, overload

import numpy as np
import scipy.sparse as sp

from adaptsim.launch import launched_ranks, share_cores
from adaptsim.linalg.collective import summation
from adaptsim.linalg.tsqr import distributed_gram
from rom.fem.quadrature import tetrahedron
from rom.fem.space import STIFFNESS_DEGREE, VectorSpace, mass_matrix
from rom.materials import MaterialState
from rom.mesh import TetMesh
from rom.mesh_blocks import MeshBlock
from rom.parallel.partition import Subdomain, partition_elements
from rom.pod import PODBasis, pod

#: Message tag of the exchange of interface rows between neighbouring ranks.
INTERFACE_TAG = 23


def distributed_pod(local: np.ndarray, comm: Any, inner: Any = None, tolerance: float = 1e-4, max_modes: int | None = None) -> PODBasis:
    """:func:`rom.pod.pod` of snapshots distributed by rows (``local``: this rank's rows, ``inner``: its local
    inner-product matrix): the correlation and Gram matrices are summed over the ranks; every rank gets the
    same singular values and its rows of the modes."""
    return pod(local, tolerance=tolerance, max_modes=max_modes, gram=distributed_gram(comm, inner))


class Layout:
    """Which rows of the blade's fields this rank holds, and the reductions that make them one field.

    A displacement-like field is held at the dofs of the rank's nodes (``dofs``; interface dofs are held by
    several ranks with equal values, and ``owned`` marks the copy each dof's lowest rank counts in sums); a
    field at integration points at the rank's own points (``points``, each point on one rank). ``space`` is
    the displacement space of the rank's elements. The serial layout (:meth:`serial`) holds everything and
    communicates nothing, so the same code runs on one process and under ``mpiexec``.
    """

    def __init__(
        self,
        space: Any,
        dofs: np.ndarray,
        points: np.ndarray,
        n_dofs: int,
        n_points: int,
        comm: Any = None,
        owned: np.ndarray | None = None,
        subdomain: Subdomain | None = None,
    ) -> None:
        self.space, self.dofs, self.points = space, dofs, points
        self.n_dofs, self.n_points = n_dofs, n_points
        self.comm, self.subdomain = comm, subdomain
        self.owned = np.ones(dofs.size, dtype=bool) if owned is None else owned
        self._shared: dict[int, np.ndarray] | None = None

    @classmethod
    def serial(cls, space: Any) -> Layout:
        """Everything on this process."""
        return cls(space, np.arange(space.n_dofs), np.arange(space.n_points), space.n_dofs, space.n_points)

    @classmethod
    def distributed(cls, mesh: TetMesh, labels: np.ndarray, comm: Any) -> Layout:
        """This rank's share of ``mesh`` given the element labels (:func:`partition_elements`)."""

        points_per_element = tetrahedron(STIFFNESS_DEGREE[mesh.order]).size
        subdomain = Subdomain.of(mesh, labels, comm.Get_rank(), points_per_element)
        node_owner = np.full(mesh.n_nodes, np.iinfo(np.int64).max)
        np.minimum.at(node_owner, mesh.cells.ravel(), np.repeat(labels, mesh.cells.shape[1]))
        owned = np.repeat(node_owner[subdomain.nodes] == comm.Get_rank(), 3)
        return cls(
            VectorSpace(subdomain.mesh),
            subdomain.dofs,
            subdomain.points,
            3 * mesh.n_nodes,
            points_per_element * mesh.n_cells,
            comm,
            owned,
            subdomain,
        )

    @classmethod
    def of_block(cls, block: MeshBlock, comm: Any) -> Layout:
        """This rank's share built alone: the layers of a structured mesh in ``block``
        (:func:`rom.mesh_blocks.layer_block`). A node on the plane between two blocks is owned by the block below
        it (with the layers in rank order, as :meth:`rom.hifi_case.MeshSpec.block` deals them, the lower rank, as
        :meth:`distributed` has it)."""

        points_per_element = tetrahedron(STIFFNESS_DEGREE[block.mesh.order]).size
        points = (points_per_element * block.elements[:, None] + np.arange(points_per_element)).ravel()
        dofs = (3 * block.nodes[:, None] + np.arange(3)).ravel()
        subdomain = Subdomain(block.elements, block.nodes, dofs, points, block.mesh)
        owned = np.repeat(~block.lower, 3)
        n_points = points_per_element * block.n_elements
        return cls(VectorSpace(block.mesh), dofs, points, 3 * block.n_nodes, n_points, comm, owned, subdomain)

    @property
    def n_ranks(self) -> int:
        """Number of processes sharing the fields."""
        return 1 if self.comm is None else self.comm.Get_size()

    @property
    def is_root(self) -> bool:
        """True on the rank that writes files (rank 0; always true when serial)."""
        return self.comm is None or self.comm.Get_rank() == 0

    def synchronize(self) -> None:
        """Wait for every rank (nothing when serial)."""
        if self.comm is not None:
            self.comm.Barrier()

    def sum(self, array: Any) -> np.ndarray:
        """The sum over the ranks of a local array (the array itself when serial)."""
        return np.asarray(summation(self.comm)(np.asarray(array, dtype=float)))

    def bounds(self, values: np.ndarray) -> tuple[float, float]:
        """The smallest and the largest of every rank's ``values``."""
        low, high = float(np.min(values)), float(np.max(values))
        if self.comm is None:
            return low, high
        from mpi4py import MPI

        return float(self.comm.allreduce(low, op=MPI.MIN)), float(self.comm.allreduce(high, op=MPI.MAX))

    def norm(self, rows: np.ndarray) -> float:
        """The Euclidean norm of a dof vector given by this rank's rows (each dof counted once, on its owner)."""
        rows = np.asarray(rows, dtype=float)
        return float(np.sqrt(self.sum(float(np.dot(rows[self.owned], rows[self.owned])))))

    def interface_sum(self, rows: np.ndarray) -> np.ndarray:
        """This rank's rows of the sum over the ranks of every rank's rows (``rows``: this rank's contribution, e.g. its
        elements' nodal forces): at an interface dof the contributions of every rank that holds it, added in rank
        order, so that every copy is the same number. Only the neighbours that share dofs exchange (nothing when
        serial)."""
        if self.comm is None:
            return np.asarray(rows)
        rows = np.ascontiguousarray(rows, dtype=float)
        neighbours = self._neighbours()
        received = {rank: np.empty((positions.size,) + rows.shape[1:]) for rank, positions in neighbours.items()}
        requests = [self.comm.Irecv(received[rank], source=rank, tag=INTERFACE_TAG) for rank in neighbours]
        outgoing = {rank: np.ascontiguousarray(rows[positions]) for rank, positions in neighbours.items()}
        requests += [self.comm.Isend(outgoing[rank], dest=rank, tag=INTERFACE_TAG) for rank in neighbours]
        from mpi4py import MPI

        MPI.Request.Waitall(requests)
        me = self.comm.Get_rank()
        total = np.zeros_like(rows)
        for rank in sorted([*neighbours, me]):
            if rank == me:
                total += rows
            else:
                total[neighbours[rank]] += received[rank]
        return total

    def consistent(self, owned_rows: np.ndarray) -> np.ndarray:
        """Every copy of each dof set to its owner's value (``owned_rows``: this rank's rows, read where it owns them)."""
        return self.interface_sum(np.where(self.owned.reshape((-1,) + (1,) * (np.ndim(owned_rows) - 1)), owned_rows, 0.0))

    def numbering(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A global numbering of the dofs ``mask`` selects (``mask``: this rank's rows): rank 0's owned dofs first, then
        rank 1's, ..., each in increasing dof order. Returns the numbers of this rank's selected rows and which of
        them it owns (its owned numbers are one contiguous block)."""
        mask = np.asarray(mask, dtype=bool)
        owned = self.owned & mask
        count = int(owned.sum())
        first = 0 if self.comm is None else int(self.comm.exscan(count) or 0)
        numbers = np.zeros(mask.size)
        numbers[owned] = first + 1 + np.arange(count)
        numbers = self.interface_sum(numbers)  # the owner's number on every copy (+1: zero means not selected)
        return numbers[mask].astype(np.int64) - 1, owned[mask]

    def _neighbours(self) -> dict[int, np.ndarray]:
        """For each other rank sharing dofs with this one, the positions in this rank's rows of the shared dofs (in
        increasing dof order, so both sides list them alike); computed at the first exchange. A dof two ranks share
        lies on the surface of both ranks' elements: the ranks compare the dofs of their surfaces' nodes only (about
        n^(2/3) of them, not every rank's n / ranks rows)."""
        if self._shared is None:
            me, self._shared = self.comm.Get_rank(), {}
            surface = np.unique(self.space.mesh.boundary_faces())  # (a rank's rows are its nodes' dofs, node by node)
            for rank, dofs in enumerate(self.comm.allgather(self.dofs.reshape(-1, 3)[surface].ravel())):
                if rank != me:
                    _, positions, _ = np.intersect1d(self.dofs, dofs, assume_unique=True, return_indices=True)
                    if positions.size:
                        self._shared[rank] = positions
        return self._shared

    def gather(self, value: Any) -> list[Any] | None:
        """Every rank's ``value`` in rank order on rank 0, None elsewhere (``[value]`` when serial)."""
        return [value] if self.comm is None else self.comm.gather(value, root=0)

    def mass_matrix(self) -> sp.csr_matrix:
        """This rank's block of the mass matrix (its elements only; the blocks add up to the whole matrix)."""

        return mass_matrix(self.space.mesh)

    def pod(self, snapshots: np.ndarray, inner: Any, tolerance: float) -> PODBasis:
        """:func:`rom.pod.pod` of the snapshots' local rows (``inner``: this rank's block of the inner product)."""
        return pod(snapshots, inner, tolerance) if self.comm is None else distributed_pod(snapshots, self.comm, inner, tolerance)

    @overload
    def to_global(self, local: np.ndarray, root_only: Literal[False] = False) -> np.ndarray: ...

    @overload
    def to_global(self, local: np.ndarray, root_only: bool) -> np.ndarray | None: ...

    def to_global(self, local: np.ndarray, root_only: bool = False) -> np.ndarray | None:
        """The whole dof vector (on every rank, or with ``root_only`` on rank 0 and None elsewhere) from this rank's rows."""
        if self.comm is None:
            return np.asarray(local)
        whole = np.zeros((self.n_dofs,) + local.shape[1:])
        whole[self.dofs[self.owned]] = local[self.owned]
        return self._total(whole, root_only)

    @overload
    def _total(self, array: np.ndarray, root_only: Literal[False]) -> np.ndarray: ...

    @overload
    def _total(self, array: np.ndarray, root_only: bool) -> np.ndarray | None: ...

    def _total(self, array: np.ndarray, root_only: bool) -> np.ndarray | None:
        """Sum over the ranks, on every rank or only on rank 0 (``Reduce``: None elsewhere)."""
        if not root_only:
            return self.sum(array)
        from mpi4py import MPI

        array = np.ascontiguousarray(array, dtype=float)
        total = np.empty_like(array) if self.is_root else None
        self.comm.Reduce(array, total, op=MPI.SUM, root=0)
        return total

    def local_points(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Of the global point ids, the positions of those on this rank and their local indices."""
        ids = np.asarray(ids, dtype=np.int64)
        where = np.searchsorted(self.points, ids).clip(max=max(self.points.size - 1, 0))
        mine = np.flatnonzero(self.points[where] == ids) if self.points.size else np.zeros(0, dtype=np.int64)
        return mine, where[mine]

    @overload
    def point_rows(self, local: np.ndarray, ids: np.ndarray, root_only: Literal[False] = False) -> np.ndarray: ...

    @overload
    def point_rows(self, local: np.ndarray, ids: np.ndarray, root_only: bool) -> np.ndarray | None: ...

    def point_rows(self, local: np.ndarray, ids: np.ndarray, root_only: bool = False) -> np.ndarray | None:
        """Rows at global point ids of a field held at this rank's points: on every rank, or with ``root_only`` on
        rank 0 (None elsewhere)."""
        if self.comm is None:
            return np.asarray(local)[ids]
        mine, where = self.local_points(ids)
        rows = np.zeros((len(ids),) + local.shape[1:])
        rows[mine] = local[where]
        return self._total(rows, root_only)  # each point lives on one rank: the sum is exact


def increment_rows(increment: Any, dofs: np.ndarray, points: np.ndarray) -> Any:
    """The rows of a whole-mesh :class:`rom.hifi.Increment` at the given dofs and integration points."""
    return replace(
        increment,
        displacement=increment.displacement[dofs],
        state=increment.state.take(points),
        stress=increment.stress[points],
        temperature=increment.temperature[points],
    )


def gathered_increment(increment: Any, layout: Layout) -> Any:
    """The whole-mesh :class:`rom.hifi.Increment` on rank 0 (None on the other ranks) from a distributed solver's
    increment (this rank's rows of every field)."""
    if layout.comm is None:
        return increment

    every = np.arange(layout.n_points)
    state = increment.state
    fields = [
        layout.point_rows(a, every, root_only=True)
        for a in (state.plastic_strain, state.backstress, state.cumulated_plasticity, increment.stress, increment.temperature)
    ]
    displacement = layout.to_global(increment.displacement, root_only=True)
    if not layout.is_root:
        return None
    whole = cast(list[np.ndarray], fields)  # rank 0 received every field
    return replace(increment, displacement=displacement, state=MaterialState(*whole[:3]), stress=whole[3], temperature=whole[4])


def process_layout(mesh: TetMesh, space: Any) -> Layout:
    """This process's layout: serial, or under ``mpiexec`` this rank's share of the elements (METIS), with
    OpenBLAS limited to the rank's share of the cores (:func:`share_cores`)."""

    if launched_ranks() <= 1:
        return Layout.serial(space)
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    share_cores(comm)
    return Layout.distributed(mesh, partition_elements(mesh, comm.Get_size()), comm)


def block_layout(block: MeshBlock) -> Layout:
    """This process's layout under ``mpiexec`` when each rank built only its own part of the mesh (``block``, of
    :meth:`rom.hifi_case.MeshSpec.block`), with OpenBLAS limited to the rank's share of the cores."""
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    share_cores(comm)
    return Layout.of_block(block, comm)


def redistribute(whole: dict[tuple[int, int], Any], layout: Layout) -> list[Any]:
    """Every rank's rows of snapshots that were computed whole, each on one rank.

    ``whole`` maps a snapshot's position in the training sequence to the :class:`rom.hifi.Increment` this rank
    computed; the result is this rank's rows of all snapshots, in sequence order (one ``alltoall``).
    """
    targets = layout.comm.allgather((layout.dofs, layout.points))
    outgoing = [{key: increment_rows(increment, dofs, points) for key, increment in whole.items()} for dofs, points in targets]
    received = {key: increment for part in layout.comm.alltoall(outgoing) for key, increment in part.items()}
    return [received[key] for key in sorted(received)]
