"""Gappy-POD fits and the error estimate built on them, against closed forms."""

import numpy as np
import pytest

from rom.indicator import ErrorEstimator, GappyPOD


@pytest.fixture
def weighted_basis():
    """Three modes orthonormal in a diagonal quadrature inner product over 40 points, fitted from 12 of them."""
    rng = np.random.default_rng(0)
    weights = rng.uniform(0.5, 2.0, 40)
    q, _ = np.linalg.qr(rng.standard_normal((40, 3)))
    modes = q / np.sqrt(weights)[:, None]  # modes.T diag(w) modes = I
    points = np.sort(rng.choice(40, 12, replace=False))
    return weights, modes, points, rng


def test_fit_in_the_span_is_exact_and_measures_the_field(weighted_basis):
    weights, modes, points, _ = weighted_basis
    gamma = np.array([3.0, -1.0, 0.5])
    field = modes @ gamma
    fit = GappyPOD(modes, points)
    residual, size = fit.fit(field[points])
    assert residual < 1e-13
    assert size == pytest.approx(np.sqrt(field @ (weights * field)), rel=1e-12)  # ||gamma|| = quadrature norm
    assert np.allclose(fit.reconstruct(field[points]), field)


def test_fit_residual_is_the_part_outside_the_restricted_span(weighted_basis):
    weights, modes, points, rng = weighted_basis
    restricted = modes[points]
    inside = restricted @ np.array([1.0, 2.0, -1.0])
    q, _ = np.linalg.qr(restricted)
    outside = rng.standard_normal(points.size)
    outside -= q @ (q.T @ outside)
    outside *= 0.1 * np.linalg.norm(inside) / np.linalg.norm(outside)
    residual, _ = GappyPOD(modes, points).fit(inside + outside)
    assert residual == pytest.approx(0.1 / np.sqrt(1.01), rel=1e-10)
    assert GappyPOD(modes, points).indicator(np.zeros(points.size)) == 0.0


def test_estimate_is_relative_to_the_larger_of_training_and_run_sizes(weighted_basis):
    _, modes, points, rng = weighted_basis
    fit = GappyPOD(modes, points)
    q, _ = np.linalg.qr(modes[points])
    outside = rng.standard_normal(points.size)
    outside -= q @ (q.T @ outside)

    def values(gamma, relative):  # a field of coefficients gamma, plus a part orthogonal to the fit's span
        inside = modes[points] @ gamma
        return inside + relative * np.linalg.norm(inside) * outside / np.linalg.norm(outside)

    estimator = ErrorEstimator({"q": 10.0})
    small = estimator.estimate({"q": fit}, {"q": values(np.array([1.0, 0.0, 0.0]), 0.2)})["q"]
    assert small == pytest.approx(0.2 / np.sqrt(1.04) * 1.0 / 10.0, rel=1e-10)  # a field 10x below the training's size
    big = estimator.estimate({"q": fit}, {"q": values(np.array([0.0, 20.0, 0.0]), 0.05)})["q"]
    assert big == pytest.approx(0.05 / np.sqrt(1.0025), rel=1e-10)  # above it: the field's own size
    after = estimator.estimate({"q": fit}, {"q": values(np.array([0.0, 0.0, 2.0]), 0.2)})["q"]
    assert after == pytest.approx(0.2 / np.sqrt(1.04) * 2.0 / 20.0, rel=1e-10)  # the run's largest size is kept


def test_estimate_without_a_basis_is_all_error():
    empty = GappyPOD(np.zeros((5, 0)), np.array([0, 2]))
    estimator = ErrorEstimator({"p": 0.0})
    assert estimator.estimate({"p": empty}, {"p": np.array([0.0, 1e-3])})["p"] == 1.0
    assert estimator.estimate({"p": empty}, {"p": np.zeros(2)})["p"] == 0.0


@pytest.mark.parametrize("rank_deficient", [False, True])
def test_reused_solution_operator_gives_lstsqs_coefficients(weighted_basis, rank_deficient):
    """The fit's cached pseudo-inverse against a fresh ``lstsq`` at every call, also when two modes coincide at the
    points (``lstsq``'s minimum-norm solution) and for several right-hand sides."""
    _, modes, points, rng = weighted_basis
    if rank_deficient:
        modes = np.column_stack([modes, modes[:, 0]])
    fit = GappyPOD(modes, points)
    for values in (rng.standard_normal(points.size), rng.standard_normal((points.size, 4))):
        expected = np.linalg.lstsq(modes[points], values, rcond=None)[0]
        assert np.allclose(fit.coefficients(values), expected, rtol=0.0, atol=1e-12 * np.abs(expected).max())
