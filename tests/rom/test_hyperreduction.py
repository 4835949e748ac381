"""Empirical cubature and QDEIM on the blade's training snapshots."""

import numpy as np
import pytest

from rom.hyperreduction import _WeightFit, compress_integrands, empirical_cubature, qdeim_points, select_points
from rom.online import force_integrands
from rom.pod import pod


def reduced_force_integrands(training, modes):
    """``sigma_s : eps(psi_i)`` at every integration point, for every snapshot s and mode i."""
    space = training.space
    mode_strains = np.stack([space.strain(modes[:, i]) for i in range(modes.shape[1])], axis=2)
    stresses = np.array([inc.stress for inc in training.increments])
    return np.einsum("spk,pkn->psn", stresses, mode_strains).reshape(space.n_points, -1)


def test_cubature_integrates_the_training_forces_with_few_points(blade_training):
    modes = pod(blade_training.displacements, blade_training.mass, tolerance=1e-4).modes
    integrands = reduced_force_integrands(blade_training, modes)
    weights = blade_training.space.weights.ravel()
    cubature = empirical_cubature(integrands, weights, tolerance=1e-5)
    assert np.all(cubature.weights > 0)
    assert cubature.size < 0.05 * weights.size  # 58 of 2304 here
    exact = integrands.T @ weights
    approximate = integrands[cubature.points].T @ cubature.weights
    assert np.linalg.norm(approximate - exact) <= 1e-4 * np.linalg.norm(exact)
    assert cubature.weights.sum() == pytest.approx(weights.sum(), rel=1e-5)  # the volume


def test_cubature_is_exact_for_functions_a_rule_can_represent():
    rng = np.random.default_rng(0)
    weights = rng.uniform(0.1, 1.0, 500)
    # functions that vanish except on 7 points: any rule must pick exactly those points and weights
    integrands = np.zeros((500, 7))
    chosen = rng.choice(500, 7, replace=False)
    integrands[chosen, np.arange(7)] = rng.uniform(1.0, 2.0, 7)
    cubature = empirical_cubature(integrands, weights, tolerance=1e-10)
    assert set(chosen) <= set(cubature.points)
    assert cubature.relative_error <= 1e-10


def test_bad_tolerance_and_qdeim_points():
    with pytest.raises(ValueError, match="cubature tolerance must be > 0"):
        empirical_cubature(np.ones((3, 1)), np.ones(3), tolerance=-1.0)
    basis = np.linalg.qr(np.random.default_rng(1).normal(size=(40, 4)))[0]
    points = qdeim_points(basis)
    assert points.size == 4 and np.linalg.cond(basis[points]) < 1e3


def split_integrands(training):
    """The force integrands of the first 12 snapshots and 4 modes, and those that 4 more snapshots and 2 more modes add
    (as two enrichments would), the quadrature weights, and all of them together."""
    space, stresses = training.space, [inc.stress for inc in training.increments]
    modes = pod(training.displacements, training.mass, tolerance=1e-5).modes[:, :6]
    first = force_integrands(space, stresses[:12], modes[:, :4])
    added = np.column_stack([force_integrands(space, stresses[12:16], modes[:, :4]), force_integrands(space, stresses[:16], modes[:, 4:])])
    return first, added, space.weights.ravel(), force_integrands(space, stresses[:16], modes)


def test_an_extended_basis_spans_the_added_integrands_and_stays_orthonormal(blade_training):
    first, added, weights, every = split_integrands(blade_training)
    basis = compress_integrands(first, weights, tolerance=1e-6)
    extended = basis.extended(added, weights)
    scratch = compress_integrands(every, weights, tolerance=1e-6)
    functions = extended.functions
    np.testing.assert_allclose(functions.T @ (weights[:, None] * functions), np.eye(extended.rank), atol=1e-10)
    np.testing.assert_allclose(extended.integrals, functions.T @ weights, rtol=1e-12, atol=1e-14 * np.abs(extended.integrals).max())
    np.testing.assert_array_equal(functions[:, : basis.rank], basis.functions)  # the earlier functions are kept as they were
    remainder = every - functions @ (functions.T @ (weights[:, None] * every))  # what the span misses, per column
    norms = np.sqrt(weights @ every**2)
    assert (np.sqrt(weights @ remainder**2) / norms).max() < 1e-5
    assert scratch.rank <= extended.rank <= scratch.rank + 5
    assert basis.extended(np.zeros((weights.size, 0)), weights) is basis


def test_a_cubature_updated_from_its_points_integrates_the_added_integrands(blade_training):
    first, added, weights, every = split_integrands(blade_training)
    basis = compress_integrands(first, weights, tolerance=1e-6)
    before = select_points(basis)
    extended = basis.extended(added, weights)
    updated = select_points(extended, start=before.points, start_weights=before.weights)
    scratch = empirical_cubature(every, weights, tolerance=1e-6)
    assert np.all(updated.weights > 0) and updated.relative_error <= 1e-6
    exact = every.T @ weights  # against the full quadrature, for every integrand
    assert np.linalg.norm(every[updated.points].T @ updated.weights - exact) <= 1e-5 * np.linalg.norm(exact)
    assert len(set(before.points) & set(updated.points)) >= 0.6 * before.size  # most earlier points stay
    assert updated.size <= 1.15 * scratch.size
    cold = select_points(extended, start=before.points)  # NNLS from scratch on the start points instead
    assert cold.relative_error <= 1e-6 and abs(cold.size - updated.size) <= 0.1 * updated.size


def test_the_weights_descend_to_the_least_squares_optimum_of_the_points_they_keep():
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(40, 25))
    exact = matrix @ rng.uniform(0.0, 1.0, 25) + 0.3 * rng.normal(size=40)  # no exact non-negative fit
    start = rng.uniform(0.5, 1.5, 15)
    fit = _WeightFit(exact, dict(enumerate(matrix[:, :15].T)), start)  # from 15 of the points
    kept = matrix[:, list(fit.rows)]
    assert 0 < len(fit.rows) < 15 and np.all(fit.weights > 0)
    np.testing.assert_allclose(fit.residual, exact - kept @ fit.weights, atol=1e-12)
    assert np.linalg.norm(kept.T @ fit.residual) < 1e-10 * np.linalg.norm(exact)  # least squares on the kept points
    assert np.linalg.norm(fit.residual) < np.linalg.norm(exact - matrix[:, :15] @ start)
    # the point that Lawson & Hanson's outer loop would add gets a positive weight, like every other
    gradient = matrix.T @ fit.residual
    best = max(range(15, 25), key=lambda column: gradient[column])
    assert gradient[best] > 0
    before = np.linalg.norm(fit.residual)
    fit.add(best, matrix[:, best])
    assert best in fit.rows and np.all(fit.weights > 0) and np.linalg.norm(fit.residual) < before
    kept = matrix[:, list(fit.rows)]
    assert np.linalg.norm(kept.T @ fit.residual) < 1e-10 * np.linalg.norm(exact)
