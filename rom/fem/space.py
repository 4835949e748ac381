"""Vector-valued isoparametric Lagrange space on a tetrahedral mesh: strains, internal forces, interpolation.

Everything is precomputed once per mesh as arrays over (element, integration point): integration weights times
the Jacobian determinant, and at their first use the strain-displacement matrices ``B`` in Mandel notation, so a
Newton iteration is a few batched products.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import scipy.sparse as sp

from adaptsim.errors import InputError
from rom.fem import quadrature
from rom.fem.elements import tetrahedron
from rom.materials.tensors import SQRT2
from rom.mesh import TetMesh

#: Integration degree used for the internal forces and tangents, by element order.
STIFFNESS_DEGREE = {1: 1, 2: 2}


class VectorSpace:
    """Displacement space of a :class:`TetMesh` (3 dofs per node, node-major: ``3 * node + component``).

    Parameters
    ----------
    mesh
        The mesh; 4-node or 10-node tetrahedra.
    degree
        Polynomial degree the quadrature integrates exactly (default: 1 for linear, 2 for quadratic
        elements: the 1- and 4-point rules).
    """

    def __init__(self, mesh: TetMesh, degree: int | None = None) -> None:
        self.mesh = mesh
        self.rule = quadrature.tetrahedron(degree if degree is not None else STIFFNESS_DEGREE[mesh.order])
        self.shape_values, self.weights, self.points = geometry(mesh, self.rule)
        self.dofs = (3 * mesh.cells[:, :, None] + np.arange(3)).reshape(mesh.n_cells, -1)  # (ne, 3 nn)

    @cached_property
    def b(self) -> np.ndarray:
        """The strain-displacement matrices (ne, nq, 6, 3 nn), computed at their first use: a space that only
        carries loads and temperatures (the whole mesh's under MPI, where each rank's share solves) never holds
        them (1.4 kB per element)."""
        return strain_displacement(shape_gradients(self.mesh, self.rule))

    @property
    def n_dofs(self) -> int:
        """Number of degrees of freedom."""
        return 3 * self.mesh.n_nodes

    @property
    def n_points(self) -> int:
        """Number of integration points (elements x points per element)."""
        return self.weights.size

    def strain(self, displacement: np.ndarray) -> np.ndarray:
        """Strains (n_points, 6) in Mandel notation of a displacement vector (n_dofs,)."""
        return np.einsum("eqsk,ek->eqs", self.b, displacement[self.dofs]).reshape(-1, 6)

    def internal_force(self, stress: np.ndarray) -> np.ndarray:
        """``f = sum_e sum_q w B^T sigma`` for stresses (n_points, 6)."""
        local = np.einsum("eqsk,eqs->ek", self.b, stress.reshape(self.weights.shape + (6,)) * self.weights[..., None])
        return np.bincount(self.dofs.ravel(), local.ravel(), minlength=self.n_dofs)

    def element_matrices(self, tangent: np.ndarray) -> np.ndarray:
        """``K_e = sum_q w B^T C B`` (ne, 3 nn, 3 nn) for tangents (n_points, 6, 6)."""
        weighted = tangent.reshape(self.weights.shape + (6, 6)) * self.weights[..., None, None]
        matrices = np.zeros((self.mesh.n_cells,) + (self.b.shape[-1],) * 2)
        for q in range(self.weights.shape[1]):  # one point at a time: no (ne, nq, 3 nn, 3 nn) array
            b = self.b[:, q]
            matrices += np.matmul(np.matmul(np.swapaxes(b, -1, -2), weighted[:, q]), b)
        return matrices

    def at_points(self, nodal: np.ndarray) -> np.ndarray:
        """Interpolate a nodal scalar field (n_nodes,) to the integration points (n_points,)."""
        return np.einsum("qa,ea->eq", self.shape_values, nodal[self.mesh.cells]).ravel()

    def norm(self, vector: np.ndarray) -> float:
        """The Euclidean norm of a dof vector (n_dofs,)."""
        return float(np.linalg.norm(vector))

    def volume(self) -> float:
        """Volume of the meshed body."""
        return float(self.weights.sum())


def _jacobians(mesh: TetMesh, rule: quadrature.Rule) -> np.ndarray:
    """The Jacobians (ne, nq, 3, 3) of the isoparametric map at the rule's points."""
    return np.einsum("eai,qaj->eqij", mesh.points[mesh.cells], tetrahedron(mesh.order).gradients(rule.points))


def shape_gradients(mesh: TetMesh, rule: quadrature.Rule) -> np.ndarray:
    """Physical shape gradients (ne, nq, nn, 3) at the rule's points (of a mesh :func:`geometry` accepted)."""
    return np.einsum("qaj,eqji->eqai", tetrahedron(mesh.order).gradients(rule.points), np.linalg.inv(_jacobians(mesh, rule)))


def geometry(mesh: TetMesh, rule: quadrature.Rule) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shape values (nq, nn), weights x Jacobian (ne, nq) and points (ne, nq, 3).

    Raises
    ------
    InputError
        When the Jacobian is not positive at some point (inverted or degenerate curved element).
    """
    values = tetrahedron(mesh.order).shape(rule.points)
    det = np.linalg.det(_jacobians(mesh, rule))
    if not np.all(det > 0.0):
        first = int(np.flatnonzero((det <= 0.0).any(axis=1))[0])
        raise InputError(f"element {first} is inverted or degenerate at an integration point", ("mesh",))
    return values, det * rule.weights, np.einsum("qa,eai->eqi", values, mesh.points[mesh.cells])


def mass_matrix(mesh: TetMesh, degree: int = 4) -> sp.csr_matrix:
    """The vector L2 mass matrix ``int u . v dV`` (3 dofs per node, node-major), exact for quadratic elements."""
    values, weights, _ = geometry(mesh, quadrature.tetrahedron(degree))
    local = np.einsum("qa,qb,eq->eab", values, values, weights)
    rows = np.broadcast_to(mesh.cells[:, :, None], local.shape).ravel()
    cols = np.broadcast_to(mesh.cells[:, None, :], local.shape).ravel()
    scalar = sp.csr_matrix((local.ravel(), (rows, cols)), shape=(mesh.n_nodes, mesh.n_nodes))
    return sp.kron(scalar, sp.identity(3), format="csr")


def strain_displacement(gradients: np.ndarray) -> np.ndarray:
    """Mandel strain-displacement matrices (ne, nq, 6, 3 nn) from shape gradients (ne, nq, nn, 3)."""
    ne, nq, nn, _ = gradients.shape
    b = np.zeros((ne, nq, 6, nn, 3))
    gx, gy, gz = gradients[..., 0], gradients[..., 1], gradients[..., 2]
    c = 1.0 / SQRT2
    b[:, :, 0, :, 0] = gx
    b[:, :, 1, :, 1] = gy
    b[:, :, 2, :, 2] = gz
    b[:, :, 3, :, 1], b[:, :, 3, :, 2] = c * gz, c * gy
    b[:, :, 4, :, 0], b[:, :, 4, :, 2] = c * gz, c * gx
    b[:, :, 5, :, 0], b[:, :, 5, :, 1] = c * gy, c * gx
    return b.reshape(ne, nq, 6, 3 * nn)
