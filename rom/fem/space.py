"""Vector-valued isoparametric Lagrange space on a tetrahedral mesh: strains, internal forces, interpolation.

Everything is precomputed once per mesh as arrays over (element, integration point): physical shape
gradients, integration weights times the Jacobian determinant, and the strain-displacement matrices
``B`` in Mandel notation, so a Newton iteration is a few batched products.
"""

from __future__ import annotations

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
        self.shape_values, self.gradients, self.weights, self.points = geometry(mesh, self.rule)
        self.dofs = (3 * mesh.cells[:, :, None] + np.arange(3)).reshape(mesh.n_cells, -1)  # (ne, 3 nn)
        self.b = strain_displacement(self.gradients)

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
        bt_c = np.matmul(np.swapaxes(self.b, -1, -2), weighted)  # (ne, nq, 3nn, 6)
        return np.matmul(bt_c, self.b).sum(axis=1)

    def at_points(self, nodal: np.ndarray) -> np.ndarray:
        """Interpolate a nodal scalar field (n_nodes,) to the integration points (n_points,)."""
        return np.einsum("qa,ea->eq", self.shape_values, nodal[self.mesh.cells]).ravel()

    def norm(self, vector: np.ndarray) -> float:
        """The Euclidean norm of a dof vector (n_dofs,)."""
        return float(np.linalg.norm(vector))

    def volume(self) -> float:
        """Volume of the meshed body."""
        return float(self.weights.sum())


def geometry(mesh: TetMesh, rule: quadrature.Rule) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shape values (nq, nn), physical gradients (ne, nq, nn, 3), weights x Jacobian (ne, nq) and points (ne, nq, 3).

    Raises
    ------
    InputError
        When the Jacobian is not positive at some point (inverted or degenerate curved element).
    """
    element = tetrahedron(mesh.order)
    values = element.shape(rule.points)
    reference = element.gradients(rule.points)  # (nq, nn, 3)
    coords = mesh.points[mesh.cells]  # (ne, nn, 3)
    jacobian = np.einsum("eai,qaj->eqij", coords, reference)
    det = np.linalg.det(jacobian)
    if not np.all(det > 0.0):
        first = int(np.flatnonzero((det <= 0.0).any(axis=1))[0])
        raise InputError(f"element {first} is inverted or degenerate at an integration point", ("mesh",))
    gradients = np.einsum("qaj,eqji->eqai", reference, np.linalg.inv(jacobian))
    return values, gradients, det * rule.weights, np.einsum("qa,eai->eqi", values, coords)


def mass_matrix(mesh: TetMesh, degree: int = 4) -> sp.csr_matrix:
    """The vector L2 mass matrix ``int u . v dV`` (3 dofs per node, node-major), exact for quadratic elements."""
    values, _, weights, _ = geometry(mesh, quadrature.tetrahedron(degree))
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
