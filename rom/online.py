"""The adaptive reduced-order model: offline bases and cubature, online increments with enrichment.

Offline (:func:`build_offline`): POD of the training displacements (mass inner product) and of the dual
quantities at the integration points (cumulated plasticity ``p``, plastic strain, backstress; quadrature
inner product), empirical cubature of the reduced internal forces, plus the QDEIM points of the ``p`` basis
(zero weight) so that ``p`` can be fitted there.

Online (:class:`AdaptiveROM`): reduced Newton increments; after each one the error estimated from the Gappy-POD fits
of the stress and of ``p`` at the reduced points (:mod:`rom.indicator`; the stress basis is the POD of the training
stresses). When it exceeds the online tolerance (and enrichment is on), the increment is redone with
the high-fidelity model from the full state reconstructed at its start (``u = Psi gamma``, internal variables
by Gappy-POD), the new snapshot enriches every basis, the stress basis included (orthogonal complement, dropped when
already in the span), the cubature is updated starting from its previous points, and the reduced model restarts from the
high-fidelity state. Casenave & Akkari (2019); Casenave et al. (2020); docs/methods.md.

Under MPI every array of the mesh's size holds this rank's rows only (:class:`rom.parallel.layout.Layout`): POD and
enrichment sum their inner products over the ranks, the cubature picks among every rank's points, each
rank integrates the reduced forces at its own reduced points (summed by ``Allreduce``), and the indicator
fits the stress and ``p`` gathered from all reduced points (vectors of their size). With the serial layout nothing is
communicated.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from adaptsim.launch import serial_blas
from adaptsim.progress import log
from rom.fem.space import VectorSpace
from rom.hifi import HifiSolver, Increment
from rom.hyperreduction import Cubature, IntegrandBasis, compress_integrands, qdeim_points, select_points
from rom.indicator import ErrorEstimator, GappyPOD
from rom.materials import MaterialState
from rom.parallel.layout import Layout
from rom.pod import enrich
from rom.reduced import ReducedIncrement, ReducedModel
from rom.tolerances import ENRICHMENT_CUBATURE_FRACTION, ENRICHMENT_TOLERANCE, REDUCED_NEWTON_FRACTION, Tolerances

#: ``factory(point indices) -> temperature(t)`` at those integration points.
TemperatureFactory = Callable[[np.ndarray], Callable[[float], np.ndarray]]


@dataclass
class OfflineROM:
    """Everything the online phase needs: bases, training stresses (for cubature updates and the stress basis), the
    cubature and the training's sizes (``scales``: largest displacement in the mass norm, largest ``p`` in the quadrature
    norm; the references of the error estimate); the compressed force integrands the cubature integrates (stored in a
    serial run's ROM file; None after an MPI run's or from an older file: an enriching online run then computes them
    at its first enrichment, from the stresses and modes); and the stress basis of the error estimate (the POD of the training
    stresses, built offline; None from a ROM file written before the offline phase built it, then the online run
    builds it; enriched with the stresses, so a campaign carries it from loading to loading); and the weights of the
    error estimate's parts fitted by the offline calibration runs (None: not calibrated,
    :data:`rom.indicator.UNCALIBRATED`)."""

    modes: np.ndarray
    p_modes: np.ndarray
    plastic_strain_modes: np.ndarray
    backstress_modes: np.ndarray
    stresses: list[np.ndarray]
    cubature: Cubature
    singular_values: np.ndarray
    tolerances: Tolerances = field(default_factory=Tolerances)
    integrands: IntegrandBasis | None = None
    scales: dict[str, float] = field(default_factory=dict)
    stress_modes: np.ndarray | None = None
    calibration: dict[str, float] | None = None


def force_integrands(space: VectorSpace, stresses: list[np.ndarray], modes: np.ndarray) -> np.ndarray:
    """``sigma_s : eps(psi_i)`` (n_points, n_snapshots * N) for every stress snapshot and mode."""
    mode_strains = np.stack([space.strain(modes[:, i]) for i in range(modes.shape[1])], axis=2)
    return np.einsum("spk,pkn->psn", np.asarray(stresses), mode_strains).reshape(space.n_points, -1)


def _with_qdeim(cubature: Cubature, p_modes: np.ndarray, layout: Layout) -> Cubature:
    """The cubature completed (with zero weights) by the QDEIM points of the whole ``p`` basis."""
    if not p_modes.shape[1]:
        return cubature
    whole = layout.point_rows(p_modes, np.arange(layout.n_points))  # n_points x N_p, once per basis change
    extra = np.setdiff1d(qdeim_points(whole), cubature.points)
    return Cubature(
        np.concatenate([cubature.points, extra]), np.concatenate([cubature.weights, np.zeros(extra.size)]), cubature.relative_error
    )


def _rows(points: np.ndarray) -> np.ndarray:
    """Rows of the 6-component fields (flattened point-major) at the given points."""
    return (6 * points[:, None] + np.arange(6)).ravel()


def _six_point_rows(layout: Layout, modes: np.ndarray, ids: np.ndarray, root_only: bool = False) -> np.ndarray | None:
    """Rows at global point ids of a 6-component basis (rows point-major, this rank's points), as ``_rows(ids)``
    would select them from the whole basis (see :meth:`rom.parallel.layout.Layout.point_rows`)."""
    rows = layout.point_rows(modes.reshape(layout.points.size, -1), ids, root_only)
    return None if rows is None else rows.reshape(6 * len(ids), -1)


def dual_inner_products(space: VectorSpace) -> tuple[sp.spmatrix, sp.spmatrix]:
    """Quadrature inner products of scalar and 6-component (Mandel) fields at the integration points."""
    weights = space.weights.ravel()
    return sp.diags(weights), sp.diags(np.repeat(weights, 6))


def _layout(space: VectorSpace | Layout) -> Layout:
    return space if isinstance(space, Layout) else Layout.serial(space)


def build_offline(
    space: VectorSpace | Layout, mass: sp.spmatrix, training: list[Increment], tolerances: Tolerances | None = None
) -> OfflineROM:
    """POD bases and empirical cubature from high-fidelity training increments.

    ``space`` is the displacement space, or under MPI this rank's :class:`rom.parallel.layout.Layout`; then ``mass``
    is this rank's block of the mass matrix, the increments hold this rank's rows, and so does the result.
    """
    tolerances = tolerances or Tolerances()
    layout = _layout(space)
    quadrature, quadrature6 = dual_inner_products(layout.space)
    displacement = layout.pod(np.array([inc.displacement for inc in training]).T, mass, tolerances.displacement)
    p_modes = layout.pod(np.array([inc.state.cumulated_plasticity for inc in training]).T, quadrature, tolerances.dual).modes
    strain_modes = layout.pod(np.array([inc.state.plastic_strain.ravel() for inc in training]).T, quadrature6, tolerances.dual).modes
    back_modes = layout.pod(np.array([inc.state.backstress.ravel() for inc in training]).T, quadrature6, tolerances.dual).modes
    stresses = [inc.stress for inc in training]
    stress_modes = _stress_basis(layout, stresses, quadrature6, tolerances.dual)
    integrands = _integrand_basis(layout, stresses, displacement.modes, tolerances.cubature)
    cubature = select_points(integrands, comm=layout.comm, point_ids=layout.points)
    return OfflineROM(
        displacement.modes,
        p_modes,
        strain_modes,
        back_modes,
        stresses,
        _with_qdeim(cubature, p_modes, layout),
        displacement.singular_values,
        tolerances,
        integrands,
        {
            "displacement": float(np.sqrt(np.max(layout.sum([inc.displacement @ (mass @ inc.displacement) for inc in training])))),
            "p": _largest_norm(layout, [inc.state.cumulated_plasticity for inc in training]),
        },
        stress_modes,
    )


def _stress_basis(layout: Layout, stresses: list[np.ndarray], quadrature6: sp.spmatrix, tolerance: float) -> np.ndarray:
    """The POD basis of the stress snapshots (quadrature inner product): what the error estimate fits the stress with."""
    return layout.pod(np.array([s.ravel() for s in stresses]).T, quadrature6, tolerance).modes


def _largest_norm(layout: Layout, fields: list[np.ndarray]) -> float:
    """The largest quadrature norm among fields at the integration points (scalar or 6-component; this rank's rows)."""
    weights = layout.space.weights.ravel()
    squares = layout.sum(np.array([np.sum(weights[:, None] * np.reshape(f, (weights.size, -1)) ** 2) for f in fields]))
    return float(np.sqrt(np.max(squares))) if len(fields) else 0.0


def _integrand_basis(layout: Layout, stresses: list[np.ndarray], modes: np.ndarray, tolerance: float) -> IntegrandBasis:
    """The compressed reduced-force integrands of every stress snapshot and mode (this rank's points)."""
    return compress_integrands(force_integrands(layout.space, stresses, modes), layout.space.weights.ravel(), tolerance, layout.comm)


def localise(offline: OfflineROM, layout: Layout) -> OfflineROM:
    """This rank's rows of a whole-mesh ROM (as read from a ROM file)."""
    if layout.comm is None:
        return offline
    rows = _rows(layout.points)
    return replace(
        offline,
        integrands=None,  # a whole-mesh basis: rebuilt from this rank's rows when needed
        modes=offline.modes[layout.dofs],
        p_modes=offline.p_modes[layout.points],
        plastic_strain_modes=offline.plastic_strain_modes[rows],
        backstress_modes=offline.backstress_modes[rows],
        stresses=[stress[layout.points] for stress in offline.stresses],
        stress_modes=None if offline.stress_modes is None else offline.stress_modes[rows],
    )


def gather(offline: OfflineROM, layout: Layout) -> OfflineROM | None:
    """The whole-mesh ROM, what a ROM file holds, on rank 0 (None on the other ranks) from every rank's rows."""
    if layout.comm is None:
        return offline
    every = np.arange(layout.n_points)
    whole: dict[str, Any] = dict(  # None off rank 0, where nothing is returned
        modes=layout.to_global(offline.modes, root_only=True),
        p_modes=layout.point_rows(offline.p_modes, every, root_only=True),
        plastic_strain_modes=_six_point_rows(layout, offline.plastic_strain_modes, every, root_only=True),
        backstress_modes=_six_point_rows(layout, offline.backstress_modes, every, root_only=True),
        stresses=[layout.point_rows(stress, every, root_only=True) for stress in offline.stresses],
        integrands=None,  # this rank's rows only: a loaded ROM recomputes them at its first enrichment
        stress_modes=None if offline.stress_modes is None else _six_point_rows(layout, offline.stress_modes, every, root_only=True),
    )
    return replace(offline, **whole) if layout.is_root else None


@dataclass
class EnrichmentTiming:
    """Seconds the enrichments spent (this rank's clock): the full-model increments, the bases, the cubature update
    (integrands, their compression, the points), and the rebuild of the reduced model; and the full model's Newton
    iterations."""

    full_model: float = 0.0
    bases: float = 0.0
    cubature: float = 0.0
    rebuild: float = 0.0
    newton_iterations: int = 0


@dataclass
class OnlineStep:
    """One online increment: time, coordinates, the estimated relative error (``indicator``:
    :meth:`rom.indicator.ErrorEstimator.total` of its ``indicator_parts``), whether it was a high-fidelity enrichment
    step, and ``p`` at the reduced points of that moment (``points``)."""

    time: float
    coordinates: np.ndarray
    indicator: float
    enriched: bool
    p_reduced: np.ndarray
    points: np.ndarray
    indicator_parts: dict[str, float] = field(default_factory=dict)


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
        Whether to enrich when the estimated error exceeds ``tolerance``.
    tolerance
        The online tolerance on the estimated relative error (:class:`rom.indicator.ErrorEstimator`); an
        enrichment updates the cubature to :data:`~rom.tolerances.ENRICHMENT_CUBATURE_FRACTION` of it
        (:attr:`cubature_tolerance`), or to the offline ROM's cubature tolerance if that is looser; the reduced
        Newton iterations converge to :data:`~rom.tolerances.REDUCED_NEWTON_FRACTION` of it (:attr:`newton_tolerance`,
        or the full model's Newton tolerance if that is looser).
    layout
        Under MPI, this rank's :class:`rom.parallel.layout.Layout` (``offline`` and ``mass`` then hold this rank's
        rows, ``hifi`` is a distributed solver); the serial layout of ``hifi``'s space by default.
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
        layout: Layout | None = None,
        tolerance: float = ENRICHMENT_TOLERANCE,
    ) -> None:
        self.offline = replace(offline, stresses=list(offline.stresses))
        self.hifi, self.mass, self.load = hifi, mass, load
        self.temperature_factory = temperature_factory
        self.enrichment, self.tolerance = enrichment, tolerance
        self.cubature_tolerance = max(offline.tolerances.cubature, ENRICHMENT_CUBATURE_FRACTION * tolerance)
        self.newton_tolerance = max(hifi.tolerance, REDUCED_NEWTON_FRACTION * tolerance)
        self.layout = layout or Layout.serial(hifi.problem.space)
        self.unit_force = self._rows_counted_once(unit_force)
        self.space = self.layout.space
        self.quadrature, self.quadrature6 = dual_inner_products(self.space)
        stresses = self.offline.stresses
        if self.offline.stress_modes is None:  # a ROM file from before the offline phase built it
            self.offline.stress_modes = _stress_basis(self.layout, stresses, self.quadrature6, self.offline.tolerances.dual)
        self._scales = {"stress": _largest_norm(self.layout, stresses), "p": self.offline.scales.get("p", 0.0)}
        self.estimator = ErrorEstimator(self._scales, self.offline.calibration)
        self.n_enrichments = 0
        self.timing = EnrichmentTiming()
        self._build()

    def with_loading(
        self, hifi: HifiSolver, unit_force: np.ndarray, load: Callable[[float], float], temperature_factory: TemperatureFactory
    ) -> AdaptiveROM:
        """This ROM, as its enrichments left it, for another loading of the same mesh and material (what a campaign
        does from one loading to the next): the same as a new :class:`AdaptiveROM` of :attr:`offline` (with this
        one's enrichment setting, tolerance and layout), without recomputing what does not depend on the loading
        (``B_z Psi`` at the reduced points, the Gappy-POD solution operators, the error estimate's reference sizes).
        Enrichments and their timing are counted afresh; enriching the new ROM leaves this one as it is."""
        other = copy.copy(self)
        other.offline = replace(self.offline, stresses=list(self.offline.stresses))
        other.hifi, other.load, other.temperature_factory = hifi, load, temperature_factory
        other.unit_force = self._rows_counted_once(unit_force)
        other._scales = dict(self._scales)
        other.estimator = ErrorEstimator(other._scales, other.offline.calibration)
        other.n_enrichments = 0
        other.timing = EnrichmentTiming()
        other.model = self.model.with_loading(hifi.problem.material, other._external_force(), other._temperatures())
        return other

    def _rows_counted_once(self, force: np.ndarray) -> np.ndarray:
        """This rank's rows of a whole force vector, zero where another rank owns the dof (each dof counted once)."""
        return np.where(self.layout.owned, force[self.layout.dofs], 0.0)

    def _external_force(self) -> Callable[[float], np.ndarray]:
        """``Psi^T f_ext(t)``."""
        unit = self.layout.sum(self.offline.modes.T @ self.unit_force)
        return lambda t: self.load(t) * unit

    def _temperatures(self) -> Callable[[float], np.ndarray]:
        """Temperatures at this rank's reduced points at time ``t``."""
        return self.temperature_factory(self.offline.cubature.points[self.mine])

    def _build(self) -> None:
        offline, layout = self.offline, self.layout
        points = offline.cubature.points
        self.mine, local = layout.local_points(points)  # this rank's reduced points: positions, local indices
        self.model = ReducedModel(
            self.space,
            self.hifi.problem.material,
            offline.modes,
            Cubature(local, offline.cubature.weights[self.mine], offline.cubature.relative_error),
            self._external_force(),
            self._temperatures(),
            self.newton_tolerance,
            self.hifi.max_iterations,
            self.hifi.max_cuts,
            None if layout.comm is None else layout.sum,
        )
        self.p_fit = GappyPOD(offline.p_modes, points, layout.point_rows(offline.p_modes, points))
        assert offline.stress_modes is not None  # (built in the constructor)
        self.strain_fit, self.back_fit, self.stress_fit = (
            GappyPOD(modes, _rows(points), _six_point_rows(layout, modes, points))
            for modes in (offline.plastic_strain_modes, offline.backstress_modes, offline.stress_modes)
        )

    def _gathered(self, local: np.ndarray) -> np.ndarray:
        """Values at every reduced point (in the cubature's order) from this rank's reduced points."""
        if self.layout.comm is None:
            return local
        values = np.zeros((self.offline.cubature.size,) + local.shape[1:])
        values[self.mine] = local
        return self.layout.sum(values)

    @property
    def n_points(self) -> int:
        """Current number of reduced points."""
        return self.offline.cubature.size

    def full_state(self, increment: ReducedIncrement) -> Increment:
        """The high-fidelity state reconstructed from a reduced one (``u = Psi gamma``, Gappy-POD of the internal variables)."""
        n = self.space.n_points
        state = MaterialState(
            self.strain_fit.reconstruct(self._gathered(increment.state.plastic_strain).ravel()).reshape(n, 6),
            self.back_fit.reconstruct(self._gathered(increment.state.backstress).ravel()).reshape(n, 6),
            self.p_fit.reconstruct(self._gathered(increment.state.cumulated_plasticity)),
        )
        displacement = self.offline.modes @ increment.coordinates  # this rank's rows, as the full model holds them
        return Increment(increment.time, displacement, state, np.zeros((n, 6)), np.zeros(n), 0, 0)

    def _enrich(self, previous: ReducedIncrement, t: float, candidate: ReducedIncrement) -> ReducedIncrement:
        """Solve ``previous -> t`` with the full model (Newton started from the reduced solution ``candidate`` at ``t``),
        enrich bases and cubature, and restart the reduced model."""
        started = time.perf_counter()
        guess = self.offline.modes @ candidate.coordinates
        full = self.hifi.step(self.full_state(previous), t, guess)
        solved = time.perf_counter()
        offline, layout = self.offline, self.layout
        displacement = full.displacement
        n_modes = offline.modes.shape[1]
        offline.modes, _ = enrich(offline.modes, displacement, self.mass, comm=layout.comm)
        offline.p_modes, _ = enrich(offline.p_modes, full.state.cumulated_plasticity, self.quadrature, comm=layout.comm)
        offline.plastic_strain_modes, _ = enrich(
            offline.plastic_strain_modes, full.state.plastic_strain.ravel(), self.quadrature6, comm=layout.comm
        )
        offline.backstress_modes, _ = enrich(offline.backstress_modes, full.state.backstress.ravel(), self.quadrature6, comm=layout.comm)
        assert offline.stress_modes is not None  # (built in the constructor)
        offline.stress_modes, _ = enrich(offline.stress_modes, full.stress.ravel(), self.quadrature6, comm=layout.comm)
        enriched = time.perf_counter()
        if offline.integrands is None:  # a ROM read from a file: compressed at its first enrichment, extended after
            offline.integrands = _integrand_basis(layout, offline.stresses, offline.modes[:, :n_modes], offline.tolerances.cubature)
        # the integrands gained: the new stress with every mode, every earlier stress with the new mode (if any)
        added = [force_integrands(self.space, [full.stress], offline.modes)]
        if offline.modes.shape[1] > n_modes:
            added.append(force_integrands(self.space, offline.stresses, offline.modes[:, n_modes:]))
        offline.stresses.append(full.stress)
        # the reference size of the stress for the estimates of a next loading (with_loading), as if built anew
        self._scales["stress"] = max(self._scales["stress"], _largest_norm(layout, [full.stress]))
        integrands = replace(offline.integrands, tolerance=self.cubature_tolerance)  # what the extension keeps, and the fit's
        offline.integrands = integrands.extended(np.column_stack(added), self.space.weights.ravel(), layout.comm)
        positive = offline.cubature.weights > 0  # not the QDEIM points
        cubature = select_points(
            offline.integrands,
            start=offline.cubature.points[positive],
            start_weights=offline.cubature.weights[positive],
            comm=layout.comm,
            point_ids=layout.points,
        )
        offline.cubature = _with_qdeim(cubature, offline.p_modes, layout)
        updated = time.perf_counter()
        self._build()
        timing = self.timing
        timing.full_model += solved - started
        timing.bases += enriched - solved
        timing.cubature += updated - enriched
        timing.rebuild += time.perf_counter() - updated
        timing.newton_iterations += full.newton_iterations
        self.n_enrichments += 1
        local = self.model.points  # this rank's reduced points (local indices)
        coordinates = layout.sum(offline.modes.T @ (self.mass @ displacement))
        log(f"enrichment {self.n_enrichments} at t = {t:g}: {offline.modes.shape[1]} modes, {offline.cubature.size} reduced points")
        return ReducedIncrement(t, coordinates, full.state.take(local), full.stress[local], full.newton_iterations)

    def estimate(self, increment: ReducedIncrement) -> dict[str, float]:
        """The estimated relative error of a reduced increment, per dual quantity (:class:`rom.indicator.ErrorEstimator`)."""
        fits = {"stress": self.stress_fit, "p": self.p_fit}
        values = {"stress": self._gathered(increment.stress).ravel(), "p": self._gathered(increment.state.cumulated_plasticity)}
        return self.estimator.estimate(fits, values)

    def run(self, times: np.ndarray, callback: Callable[[int, OnlineStep], None] | None = None) -> list[OnlineStep]:
        """Online increments ending at ``times``; returns one :class:`OnlineStep` each."""
        current = self.model.initial()
        steps: list[OnlineStep] = []
        with serial_blas():  # small dense algebra, between PARDISO solves (see adaptsim.launch.serial_blas)
            for index, t in enumerate(times):
                candidate = self.model.step(current, float(t))
                parts = self.estimate(candidate)
                enriched = self.enrichment and self.estimator.model_error(parts) > self.tolerance
                if enriched:
                    candidate = self._enrich(current, float(t), candidate)
                    self.estimator.restart(inherited=steps[-1].indicator if steps else 0.0)
                    parts = self.estimate(candidate)
                current = candidate
                p_reduced = self._gathered(current.state.cumulated_plasticity)
                step = OnlineStep(
                    float(t),
                    current.coordinates.copy(),
                    self.estimator.total(parts),
                    enriched,
                    p_reduced.copy(),
                    self.offline.cubature.points,
                    parts,
                )
                steps.append(step)
                if callback is not None:
                    callback(index, step)
        return steps
