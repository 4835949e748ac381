"""MPI distribution of the blade: element partitions, subdomains, and POD of row-distributed snapshots.

Every rank owns a set of elements (METIS through pymetis where it installs, recursive coordinate
bisection otherwise), hence their integration points, and holds the rows of the nodes its elements touch
(interface nodes are held by several ranks). Inner products are sums of element contributions, so a
rank's share is computed with its *local* mass matrix (assembled over its own elements only) and the
shares add up exactly: nothing is counted twice. Quantities at integration points belong to one rank.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from adaptsim.errors import CaseError, RunError
from adaptsim.linalg.collective import summation
from adaptsim.linalg.tsqr import distributed_gram
from rom.mesh import TetMesh
from rom.pod import PODBasis, pod

#: The user-facing errors that the distributed runners raise on every rank at once (see :func:`abort_on_error`).
COLLECTIVE_ERRORS: tuple[type[BaseException], ...] = (CaseError, RunError)

#: Message tag of the broadcast solution, and the sleep between tests of its arrival on the other ranks.
SOLUTION_TAG = 17
IDLE_POLL_SECONDS = 5e-4


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


def share_cores(comm: Any, library: str = "openblas") -> Any:
    """Limit a threaded library to this rank's share of the node's cores (a threadpoolctl limiter: use it in a
    ``with`` block to restore the previous limit at its end).

    ``openblas`` (NumPy/SciPy's dense linear algebra) is limited for the whole run: every rank's BLAS would
    otherwise start one thread per core, and with two ranks on two cores the spinning threads made a dense
    QR 20x slower. ``mkl`` (PARDISO) only where every rank solves at once (training split by fields); the
    distributed solve runs on rank 0 alone while the other ranks wait without spinning (:func:`gathered_solve`).
    """
    import os

    from mpi4py import MPI
    from threadpoolctl import ThreadpoolController

    on_this_node = comm.Split_type(MPI.COMM_TYPE_SHARED).Get_size()
    threads = max(1, len(os.sched_getaffinity(0)) // on_this_node)
    return ThreadpoolController().select(internal_api=library).limit(limits=threads)


@contextmanager
def abort_on_error(comm: Any, collective: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Run a block on every rank; if it raises on one rank, print that rank's message and abort the whole job.

    Without this, the other ranks would wait forever in their next collective operation. The message goes to
    stderr as one line ``adaptsim: rank R: error``, then ``comm.Abort(1)`` ends every process (``mpiexec``
    exits non-zero). A one-rank communicator (or None) re-raises instead, so serial runs keep their normal errors.
    ``collective`` errors are raised by every rank at once by construction (decisions taken on summed or
    replicated data, such as a Newton failure after the last increment cut): they are re-raised, so that the
    command line reports them once, from rank 0, with their usual exit code.
    """
    try:
        yield
    except BaseException as error:  # noqa: BLE001 - any failure, including KeyboardInterrupt, must end the job
        if comm is None or comm.Get_size() == 1 or isinstance(error, collective):
            raise
        sys.stderr.write(f"adaptsim: rank {comm.Get_rank()}: {type(error).__name__}: {error}\n")
        sys.stderr.flush()
        comm.Abort(1)


class Layout:
    """Which rows of the blade's fields this rank holds, and the reductions that make them one field.

    A displacement-like field is held at the dofs of the rank's nodes (``dofs``; interface dofs are held by
    several ranks with equal values, and ``owned`` marks the copy each dof's lowest rank counts in sums); a
    field at integration points at the rank's own points (``points``, each point on one rank). ``space`` is
    the displacement space of the rank's elements. The serial layout (:meth:`serial`) holds everything and
    communicates nothing, so the same code runs on one process and under ``mpiexec``.
    """

    def __init__(self, space: Any, dofs: np.ndarray, points: np.ndarray, n_dofs: int, n_points: int,
                 comm: Any = None, owned: np.ndarray | None = None, subdomain: Subdomain | None = None) -> None:
        self.space, self.dofs, self.points = space, dofs, points
        self.n_dofs, self.n_points = n_dofs, n_points
        self.comm, self.subdomain = comm, subdomain
        self.owned = np.ones(dofs.size, dtype=bool) if owned is None else owned

    @classmethod
    def serial(cls, space: Any) -> Layout:
        """Everything on this process."""
        return cls(space, np.arange(space.n_dofs), np.arange(space.n_points), space.n_dofs, space.n_points)

    @classmethod
    def distributed(cls, mesh: TetMesh, labels: np.ndarray, comm: Any) -> Layout:
        """This rank's share of ``mesh`` given the element labels (:func:`partition_elements`)."""
        from rom.fem.quadrature import tetrahedron
        from rom.fem.space import STIFFNESS_DEGREE, VectorSpace

        points_per_element = tetrahedron(STIFFNESS_DEGREE[mesh.order]).size
        subdomain = Subdomain.of(mesh, labels, comm.Get_rank(), points_per_element)
        node_owner = np.full(mesh.n_nodes, np.iinfo(np.int64).max)
        np.minimum.at(node_owner, mesh.cells.ravel(), np.repeat(labels, mesh.cells.shape[1]))
        owned = np.repeat(node_owner[subdomain.nodes] == comm.Get_rank(), 3)
        return cls(VectorSpace(subdomain.mesh), subdomain.dofs, subdomain.points, 3 * mesh.n_nodes,
                   points_per_element * mesh.n_cells, comm, owned, subdomain)

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

    def mass_matrix(self) -> sp.csr_matrix:
        """This rank's block of the mass matrix (its elements only; the blocks add up to the whole matrix)."""
        from rom.fem.space import mass_matrix

        return mass_matrix(self.space.mesh)

    def pod(self, snapshots: np.ndarray, inner: Any, tolerance: float) -> PODBasis:
        """:func:`rom.pod.pod` of the snapshots' local rows (``inner``: this rank's block of the inner product)."""
        return pod(snapshots, inner, tolerance) if self.comm is None else distributed_pod(snapshots, self.comm, inner, tolerance)

    def to_global(self, local: np.ndarray, root_only: bool = False) -> np.ndarray | None:
        """The whole dof vector (on every rank, or with ``root_only`` on rank 0 and None elsewhere) from this rank's rows."""
        if self.comm is None:
            return np.asarray(local)
        whole = np.zeros((self.n_dofs,) + local.shape[1:])
        whole[self.dofs[self.owned]] = local[self.owned]
        return self._total(whole, root_only)

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
    return replace(increment, displacement=increment.displacement[dofs], state=increment.state.take(points),
                   stress=increment.stress[points], temperature=increment.temperature[points])


def gathered_increment(increment: Any, layout: Layout) -> Any:
    """The whole-mesh :class:`rom.hifi.Increment` on rank 0 (None on the other ranks) from a distributed solver's
    increment, whose displacement is already whole and whose point fields are this rank's."""
    if layout.comm is None:
        return increment
    from rom.materials import MaterialState

    every = np.arange(layout.n_points)
    state = increment.state
    fields = [layout.point_rows(a, every, root_only=True)
              for a in (state.plastic_strain, state.backstress, state.cumulated_plasticity, increment.stress, increment.temperature)]
    if not layout.is_root:
        return None
    return replace(increment, state=MaterialState(*fields[:3]), stress=fields[3], temperature=fields[4])


def process_layout(mesh: TetMesh, space: Any) -> Layout:
    """This process's layout: serial, or under ``mpiexec`` this rank's share of the elements (METIS), with
    OpenBLAS limited to the rank's share of the cores (:func:`share_cores`)."""
    from adaptsim.launch import launched_ranks

    if launched_ranks() <= 1:
        return Layout.serial(space)
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    share_cores(comm)
    return Layout.distributed(mesh, partition_elements(mesh, comm.Get_size()), comm)


def redistribute(whole: dict[int, Any], layout: Layout) -> list[Any]:
    """Every rank's rows of snapshots that were computed whole, each on one rank.

    ``whole`` maps a snapshot's position in the training sequence to the :class:`rom.hifi.Increment` this rank
    computed; the result is this rank's rows of all snapshots, in sequence order (one ``alltoall``).
    """
    targets = layout.comm.allgather((layout.dofs, layout.points))
    outgoing = [{key: increment_rows(increment, dofs, points) for key, increment in whole.items()} for dofs, points in targets]
    received = {key: increment for part in layout.comm.alltoall(outgoing) for key, increment in part.items()}
    return [received[key] for key in sorted(received)]


class DistributedSpace:
    """The displacement space of one rank's elements, seen by :class:`rom.hifi.HifiSolver` as the whole space.

    Displacements are global vectors (replicated on every rank); strains, stresses and internal variables
    live at this rank's integration points only; internal forces are summed over the ranks (``Allreduce``),
    so every rank sees the same residual and takes the same Newton path.
    """

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.subdomain, self.local = layout.subdomain, layout.space
        self.n_dofs = layout.n_dofs
        self.dofs = layout.dofs[self.local.dofs]  # global dofs of the local elements
        self.weights, self.points, self.shape_values = self.local.weights, self.local.points, self.local.shape_values

    @property
    def n_points(self) -> int:
        """Integration points of this rank."""
        return self.local.n_points

    def strain(self, displacement: np.ndarray) -> np.ndarray:
        """Strains at this rank's points from the global displacement."""
        return self.local.strain(displacement[self.layout.dofs])

    def internal_force(self, stress: np.ndarray) -> np.ndarray:
        """The global internal-force vector (summed over the ranks)."""
        local = np.zeros(self.n_dofs)
        local[self.layout.dofs] = self.local.internal_force(stress)
        return self.layout.sum(local)

    def element_matrices(self, tangent: np.ndarray) -> np.ndarray:
        """Element tangents of this rank's elements."""
        return self.local.element_matrices(tangent)

    def at_points(self, nodal: np.ndarray) -> np.ndarray:
        """A global nodal field at this rank's points."""
        return self.local.at_points(nodal[self.subdomain.nodes])


class CollectiveMaterial:
    """A material whose local failures are agreed on by every rank (so that all ranks cut the increment)."""

    def __init__(self, material: Any, comm: Any) -> None:
        self.material, self.comm = material, comm

    def __getattr__(self, name: str) -> Any:
        return getattr(self.material, name)

    def update(self, *args: Any, **kwargs: Any):
        """The material's update; a :class:`LocalConvergenceError` on any rank is raised on every rank."""
        from rom.materials import LocalConvergenceError

        try:
            result, failure = self.material.update(*args, **kwargs), ""
        except LocalConvergenceError as error:
            result, failure = None, str(error)
        failures = [f for f in self.comm.allgather(failure) if f]
        if failures:
            raise LocalConvergenceError(failures[0])
        return result


def gathered_solve(comm: Any, solve: Callable[[sp.csr_matrix, np.ndarray], np.ndarray]) -> Callable[[sp.csr_matrix, np.ndarray], np.ndarray]:
    """A linear solve of the sum of every rank's matrix: gathered and solved on rank 0, the solution broadcast.

    The documented limit of the distributed high-fidelity model: constitutive updates and assembly scale
    with the ranks, the sparse direct solve does not.
    """

    def distributed_solve(local: sp.csr_matrix, rhs: np.ndarray) -> np.ndarray:
        pieces = comm.gather(local, root=0)
        if comm.Get_rank() == 0:
            solution = np.ascontiguousarray(solve(sum(pieces[1:], pieces[0]).tocsr(), rhs), dtype=float)
            for rank in range(1, comm.Get_size()):
                comm.Send(solution, dest=rank, tag=SOLUTION_TAG)
            return solution
        # wait without spinning, so that the solver's threads on rank 0 get this core
        solution = np.empty(rhs.shape, dtype=float)
        request = comm.Irecv(solution, source=0, tag=SOLUTION_TAG)
        while not request.Test():
            time.sleep(IDLE_POLL_SECONDS)
        return solution

    return distributed_solve


def distributed_solver(problem: Any, layout: Layout, **options: Any):
    """A :class:`rom.hifi.HifiSolver` of ``problem`` with this rank's elements only (see :class:`DistributedSpace`);
    the solver of ``problem`` itself for a serial layout."""
    from rom.fem.linear import linear_solver
    from rom.hifi import HifiSolver, MechanicalProblem

    if layout.comm is None:
        return HifiSolver(problem, **options)
    comm = layout.comm
    space = DistributedSpace(layout)
    local_problem = MechanicalProblem(space, CollectiveMaterial(problem.material, comm), problem.constrained, problem.external_force, problem.temperature)
    solver = HifiSolver(local_problem, **options)
    solver.solve = gathered_solve(comm, linear_solver(options.get("solver", "auto")))
    return solver
