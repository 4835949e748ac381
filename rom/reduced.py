"""The online reduced model: Newton on the POD coordinates, the constitutive law only at the cubature points.

``u = Psi gamma``; the reduced residual is ``sum_z w_z (B_z Psi)^T sigma_z - Psi^T f_ext(t)`` and the tangent
``sum_z w_z (B_z Psi)^T C_z (B_z Psi)``, where ``z`` runs over the empirical-cubature points only. The
products ``B_z Psi`` (6 x N per point) are formed once; afterwards no operation touches the full mesh, so
an increment costs O(n_points_reduced N^2 + N^3) whatever the number of degrees of freedom.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rom.fem.space import VectorSpace
from rom.hifi import NewtonFailure, solve_with_cuts
from rom.hyperreduction import Cubature
from rom.interfaces import ConstitutiveLaw
from rom.materials import LocalConvergenceError, MaterialState


@dataclass
class ReducedIncrement:
    """A converged reduced increment: coordinates, internal variables and stress at the reduced points."""

    time: float
    coordinates: np.ndarray
    state: MaterialState
    stress: np.ndarray
    newton_iterations: int = 0
    cuts: int = 0
    residual_history: list[float] = field(default_factory=list)


class ReducedModel:
    """Hyper-reduced Galerkin model.

    Parameters
    ----------
    space
        The full displacement space (used only here, to form ``B_z Psi``).
    material
        Constitutive law.
    modes
        Displacement basis (n_dofs, N), zero on constrained dofs.
    cubature
        Reduced points and weights (:func:`rom.hyperreduction.empirical_cubature`); points of zero weight
        are evaluated (for the indicator) but do not contribute to the forces.
    external_force
        ``Psi^T f_ext(t)`` (N,).
    temperature
        Temperatures at the reduced points at time ``t`` (n_reduced,).
    reduce
        Under MPI, the sum over the ranks (each rank passing the cubature points of its own elements): applied
        to the reduced forces and tangents, and to failure flags so that every rank takes the same path.
        None for a serial run.
    """

    def __init__(
        self,
        space: VectorSpace,
        material: ConstitutiveLaw,
        modes: np.ndarray,
        cubature: Cubature,
        external_force: Callable[[float], np.ndarray],
        temperature: Callable[[float], np.ndarray],
        tolerance: float = 1e-8,
        max_iterations: int = 15,
        max_cuts: int = 8,
        reduce: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> None:
        self.reduce = reduce or (lambda array: array)
        n_per_element = space.weights.shape[1]
        elements, local = np.divmod(cubature.points, n_per_element)
        self.points = cubature.points
        self.weights = cubature.weights
        self.b_modes = np.einsum("zsk,zkn->zsn", space.b[elements, local], modes[space.dofs[elements]])
        self.material = material
        self.external_force = external_force
        self.temperature = temperature
        self.tolerance, self.max_iterations, self.max_cuts = tolerance, max_iterations, max_cuts

    def with_loading(
        self, material: ConstitutiveLaw, external_force: Callable[[float], np.ndarray], temperature: Callable[[float], np.ndarray]
    ) -> ReducedModel:
        """The same reduced model (points, weights, ``B_z Psi``, Newton settings) under another material, external
        force and temperature."""
        other = copy.copy(self)
        other.material, other.external_force, other.temperature = material, external_force, temperature
        return other

    @property
    def n_modes(self) -> int:
        """Number of displacement modes."""
        return self.b_modes.shape[2]

    def initial(self) -> ReducedIncrement:
        """The unloaded state at time 0."""
        n = self.points.size
        return ReducedIncrement(0.0, np.zeros(self.n_modes), MaterialState.zeros(n), np.zeros((n, 6)))

    def newton(self, previous: ReducedIncrement, t: float) -> ReducedIncrement:
        """Solve the reduced increment from ``previous`` to ``t`` (raises :class:`NewtonFailure`)."""
        gamma = previous.coordinates.copy()
        force = self.external_force(t)
        temperature = self.temperature(t)
        coefficients = self.material.coefficients(temperature)
        history: list[float] = []
        for iteration in range(1, self.max_iterations + 1):
            strain = self.b_modes @ gamma
            try:
                result, failure = self.material.update(strain, temperature, t - previous.time, previous.state, coefficients), ""
            except LocalConvergenceError as error:
                result, failure = None, str(error)
            if self.reduce(np.array([float(bool(failure))]))[0] > 0.0:
                raise NewtonFailure(failure or "constitutive update failed on another rank")
            assert result is not None  # this rank's update succeeded
            internal = self.reduce(np.tensordot(self.b_modes, result.stress * self.weights[:, None], axes=([0, 1], [0, 1])))
            residual = internal - force
            history.append(float(np.linalg.norm(residual)))
            reference = max(float(np.linalg.norm(force)), float(np.linalg.norm(internal)), history[0])
            if not np.isfinite(history[-1]):
                raise NewtonFailure("non-finite reduced residual")
            if history[-1] <= self.tolerance * reference:
                return ReducedIncrement(t, gamma, result.state, result.stress, iteration - 1, 0, history)
            weighted = result.tangent * self.weights[:, None, None]
            tangent = self.reduce(np.tensordot(self.b_modes, weighted @ self.b_modes, axes=([0, 1], [0, 1])))
            gamma -= np.linalg.solve(tangent, residual)
        raise NewtonFailure(
            f"reduced Newton: no convergence in {self.max_iterations} iterations (relative residual {history[-1] / reference:.3g})"
        )

    def step(self, previous: ReducedIncrement, t: float) -> ReducedIncrement:
        """Solve to ``t`` with automatic increment cutting."""
        return solve_with_cuts(self.newton, previous, t, self.max_cuts, "reduced")
