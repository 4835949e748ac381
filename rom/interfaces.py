"""The interfaces the full model is written against, so that a rank's share can stand in for the whole.

:class:`rom.hifi.HifiSolver` sees a :class:`DisplacementSpace` and a :class:`ConstitutiveLaw`: on one process
they are :class:`rom.fem.space.VectorSpace` and a :mod:`rom.materials` law; under MPI
:class:`rom.parallel.solver.DistributedSpace` and :class:`rom.parallel.solver.CollectiveMaterial`, which sum
the internal forces and agree on local failures over the ranks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from rom.materials import Coefficients, ConstitutiveResult, MaterialState
    from rom.materials.tables import TemperatureTable


class DisplacementSpace(Protocol):
    """A displacement field discretised by finite elements, with its integration points."""

    dofs: np.ndarray  #: (n_elements, dofs per element) each element's dofs, as positions in a displacement vector
    weights: np.ndarray  #: (n_elements, points per element) quadrature weights times Jacobians

    @property
    def n_dofs(self) -> int:
        """Length of a displacement vector."""
        ...

    @property
    def n_points(self) -> int:
        """Integration points the fields at points are held on."""
        ...

    def strain(self, displacement: np.ndarray) -> np.ndarray:
        """Strains (n_points, 6) of a displacement vector."""
        ...

    def internal_force(self, stress: np.ndarray) -> np.ndarray:
        """Nodal forces (n_dofs,) of stresses (n_points, 6)."""
        ...

    def element_matrices(self, tangent: np.ndarray) -> np.ndarray:
        """Element stiffness matrices of a tangent (n_points, 6, 6)."""
        ...

    def at_points(self, nodal: np.ndarray) -> np.ndarray:
        """A nodal scalar field at the integration points."""
        ...

    def norm(self, vector: np.ndarray) -> float:
        """The Euclidean norm of a dof vector (each dof counted once, however the vector is held)."""
        ...


class ConstitutiveLaw(Protocol):
    """A temperature-dependent material law integrated at the integration points."""

    reference_temperature: float
    density: float

    @property
    def tables(self) -> tuple[TemperatureTable, ...]:
        """Every temperature-dependent coefficient."""
        ...

    def coefficients(self, temperature: np.ndarray) -> Coefficients:
        """The coefficients at the points' temperatures."""
        ...

    def update(
        self, strain: np.ndarray, temperature: np.ndarray, dt: float, state: MaterialState, coefficients: Coefficients | None = None
    ) -> ConstitutiveResult:
        """Stress, tangent and new state after a time step ``dt`` at total strains ``strain``."""
        ...
