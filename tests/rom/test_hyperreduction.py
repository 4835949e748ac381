"""Empirical cubature and QDEIM on the blade's training snapshots."""

import numpy as np
import pytest

from rom.hyperreduction import empirical_cubature, qdeim_points
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
