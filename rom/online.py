"""The adaptive reduced-order model: offline bases and cubature, online increments with enrichment.

Offline (:func:`build_offline`): POD of the training displacements (mass inner product) and of the dual
quantities at the integration points (cumulated plasticity ``p``, plastic strain, backstress; quadrature
inner product), empirical cubature of the reduced internal forces, plus the QDEIM points of the ``p`` basis
(zero weight) so that ``p`` can be fitted there.

Online (:class:`AdaptiveROM`): reduced Newton increments; after each one the Gappy-POD indicator on ``p``
(:mod:`rom.indicator`). When it exceeds the tolerance (and enrichment is on), the increment is redone with
the high-fidelity model from the full state reconstructed at its start (``u = Psi gamma``, internal variables
by Gappy-POD), the new snapshot enriches every basis (orthogonal complement, dropped when already in the
span), the cubature is updated starting from its previous points, and the reduced model restarts from the
high-fidelity state. Casenave & Akkari (2019); Casenave et al. (2020); ../shared/METHODS.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from adaptsim.progress import log
from rom.fem.space import VectorSpace
from rom.hifi import HifiSolver, Increment
from rom.hyperreduction import Cubature, empirical_cubature, qdeim_points
from rom.indicator import GappyPOD
from rom.materials import MaterialState
from rom.pod import enrich, pod
from rom.reduced import ReducedIncrement, ReducedModel

#: ``factory(point indices) -> temperature(t)`` at those integration points.
TemperatureFactory = Callable[[np.ndarray], Callable[[float], np.ndarray]]


@dataclass
class Tolerances:
    """POD truncation (displacement, dual quantities), cubature, and the indicator's enrichment threshold."""

    displacement: float = 1e-5
    dual: float = 1e-5
    cubature: float = 1e-6
    indicator: float = 0.01


@dataclass
class OfflineROM:
    """Everything the online phase needs: bases, training stresses (for cubature updates) and the cubature."""

    modes: np.ndarray
    p_modes: np.ndarray
    plastic_strain_modes: np.ndarray
    backstress_modes: np.ndarray
    stresses: list[np.ndarray]
    cubature: Cubature
    singular_values: np.ndarray
    tolerances: Tolerances = field(default_factory=Tolerances)


def force_integrands(space: VectorSpace, stresses: list[np.ndarray], modes: np.ndarray) -> np.ndarray:
    """``sigma_s : eps(psi_i)`` (n_points, n_snapshots * N) for every stress snapshot and mode."""
    mode_strains = np.stack([space.strain(modes[:, i]) for i in range(modes.shape[1])], axis=2)
    return np.einsum("spk,pkn->psn", np.asarray(stresses), mode_strains).reshape(space.n_points, -1)


def _with_qdeim(cubature: Cubature, p_modes: np.ndarray) -> Cubature:
    extra = np.setdiff1d(qdeim_points(p_modes), cubature.points) if p_modes.shape[1] else np.zeros(0, dtype=np.int64)
    return Cubature(np.concatenate([cubature.points, extra]), np.concatenate([cubature.weights, np.zeros(extra.size)]), cubature.relative_error)


def _rows(points: np.ndarray) -> np.ndarray:
    """Rows of the 6-component fields (flattened point-major) at the given points."""
    return (6 * points[:, None] + np.arange(6)).ravel()


def dual_inner_products(space: VectorSpace) -> tuple[sp.spmatrix, sp.spmatrix]:
    """Quadrature inner products of scalar and 6-component (Mandel) fields at the integration points."""
    weights = space.weights.ravel()
    return sp.diags(weights), sp.diags(np.repeat(weights, 6))


def build_offline(space: VectorSpace, mass: sp.spmatrix, training: list[Increment], tolerances: Tolerances | None = None) -> OfflineROM:
    """POD bases and empirical cubature from high-fidelity training increments."""
    tolerances = tolerances or Tolerances()
    quadrature, quadrature6 = dual_inner_products(space)
    displacement = pod(np.array([inc.displacement for inc in training]).T, mass, tolerances.displacement)
    p_modes = pod(np.array([inc.state.cumulated_plasticity for inc in training]).T, quadrature, tolerances.dual).modes
    strain_modes = pod(np.array([inc.state.plastic_strain.ravel() for inc in training]).T, quadrature6, tolerances.dual).modes
    back_modes = pod(np.array([inc.state.backstress.ravel() for inc in training]).T, quadrature6, tolerances.dual).modes
    stresses = [inc.stress for inc in training]
    cubature = empirical_cubature(force_integrands(space, stresses, displacement.modes), space.weights.ravel(), tolerances.cubature)
    return OfflineROM(displacement.modes, p_modes, strain_modes, back_modes, stresses, _with_qdeim(cubature, p_modes), displacement.singular_values, tolerances)


@dataclass
class OnlineStep:
    """One online increment: time, coordinates, indicator, whether it was a high-fidelity enrichment step, and
    ``p`` at the reduced points of that moment (``points``)."""

    time: float
    coordinates: np.ndarray
    indicator: float
    enriched: bool
    p_reduced: np.ndarray
    points: np.ndarray


class AdaptiveROM:
    """The online phase, with or without enrichment.

    Parameters
    ----------
    offline
        Bases and cubature (copied: enrichment does not modify the offline data).
    hifi
        The high-fidelity solver of the online problem (used only for enrichment steps).
    mass
        Displacement inner product.
    unit_force
        Full external force at load factor 1; ``load(t)`` scales it.
    load
        The load factor ``load(t)``.
    temperature_factory
        ``factory(points)(t)``: temperatures at those integration points.
    enrichment
        Whether to enrich when the indicator exceeds ``offline.tolerances.indicator``.
    """

    def __init__(
        self,
        offline: OfflineROM,
        hifi: HifiSolver,
        mass: sp.spmatrix,
        unit_force: np.ndarray,
        load: Callable[[float], float],
        temperature_factory: TemperatureFactory,
        enrichment: bool = True,
    ) -> None:
        self.offline = replace(offline, stresses=list(offline.stresses))
        self.hifi, self.mass, self.unit_force, self.load = hifi, mass, unit_force, load
        self.temperature_factory = temperature_factory
        self.enrichment = enrichment
        self.space = hifi.problem.space
        self.quadrature, self.quadrature6 = dual_inner_products(self.space)
        self.n_enrichments = 0
        self._build()

    def _build(self) -> None:
        offline = self.offline
        unit = offline.modes.T @ self.unit_force
        self.model = ReducedModel(
            self.space, self.hifi.problem.material, offline.modes, offline.cubature,
            lambda t: self.load(t) * unit, self.temperature_factory(offline.cubature.points),
            self.hifi.tolerance, self.hifi.max_iterations, self.hifi.max_cuts,
        )
        points = offline.cubature.points
        self.p_fit = GappyPOD(offline.p_modes, points)
        self.strain_fit = GappyPOD(offline.plastic_strain_modes, _rows(points))
        self.back_fit = GappyPOD(offline.backstress_modes, _rows(points))

    @property
    def n_points(self) -> int:
        """Current number of reduced points."""
        return self.offline.cubature.size

    def full_state(self, increment: ReducedIncrement) -> Increment:
        """The high-fidelity state reconstructed from a reduced one (``u = Psi gamma``, Gappy-POD of the internal variables)."""
        n = self.space.n_points
        state = MaterialState(
            self.strain_fit.reconstruct(increment.state.plastic_strain.ravel()).reshape(n, 6),
            self.back_fit.reconstruct(increment.state.backstress.ravel()).reshape(n, 6),
            self.p_fit.reconstruct(increment.state.cumulated_plasticity),
        )
        displacement = self.offline.modes @ increment.coordinates
        return Increment(increment.time, displacement, state, np.zeros((n, 6)), np.zeros(n), 0, 0)

    def _enrich(self, previous: ReducedIncrement, t: float) -> ReducedIncrement:
        """Solve ``previous -> t`` with the full model, enrich bases and cubature, and restart the reduced model."""
        full = self.hifi.step(self.full_state(previous), t)
        offline = self.offline
        weights = self.space.weights.ravel()
        offline.modes, _ = enrich(offline.modes, full.displacement, self.mass)
        offline.p_modes, _ = enrich(offline.p_modes, full.state.cumulated_plasticity, self.quadrature)
        offline.plastic_strain_modes, _ = enrich(offline.plastic_strain_modes, full.state.plastic_strain.ravel(), self.quadrature6)
        offline.backstress_modes, _ = enrich(offline.backstress_modes, full.state.backstress.ravel(), self.quadrature6)
        offline.stresses.append(full.stress)
        integrands = force_integrands(self.space, offline.stresses, offline.modes)
        positive = offline.cubature.points[offline.cubature.weights > 0]
        cubature = empirical_cubature(integrands, weights, offline.tolerances.cubature, start=positive)
        offline.cubature = _with_qdeim(cubature, offline.p_modes)
        self._build()
        self.n_enrichments += 1
        points = offline.cubature.points
        coordinates = offline.modes.T @ (self.mass @ full.displacement)
        log(f"enrichment {self.n_enrichments} at t = {t:g}: {offline.modes.shape[1]} modes, {points.size} reduced points")
        return ReducedIncrement(t, coordinates, full.state.take(points), full.stress[points], full.newton_iterations)

    def run(self, times: np.ndarray, callback: Callable[[int, OnlineStep], None] | None = None) -> list[OnlineStep]:
        """Online increments ending at ``times``; returns one :class:`OnlineStep` each."""
        current = self.model.initial()
        steps = []
        for index, t in enumerate(times):
            candidate = self.model.step(current, float(t))
            indicator = self.p_fit.indicator(candidate.state.cumulated_plasticity)
            enriched = self.enrichment and indicator > self.offline.tolerances.indicator
            if enriched:
                candidate = self._enrich(current, float(t))
                indicator = self.p_fit.indicator(candidate.state.cumulated_plasticity)
            current = candidate
            step = OnlineStep(float(t), current.coordinates.copy(), indicator, enriched, current.state.cumulated_plasticity.copy(), self.offline.cubature.points)
            steps.append(step)
            if callback is not None:
                callback(index, step)
        return steps
