"""Gappy-POD fits and the error estimate built on them, against closed forms."""

import numpy as np
import pytest

from rom.indicator import UNCALIBRATED, ErrorEstimator, GappyPOD, calibrate, combined, worst_factor


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


@pytest.fixture
def stress_values(weighted_basis):
    """``values(gamma, relative)``: a stress field of coefficients ``gamma`` plus a part orthogonal to the fit's span,
    ``relative`` times its size at the points; and the fit."""
    _, modes, points, rng = weighted_basis
    fit = GappyPOD(modes, points)
    q, _ = np.linalg.qr(modes[points])
    outside = rng.standard_normal(points.size)
    outside -= q @ (q.T @ outside)

    def values(gamma, relative):
        inside = modes[points] @ gamma
        return inside + relative * np.linalg.norm(inside) * outside / np.linalg.norm(outside)

    return values, fit


def test_estimate_is_relative_to_the_larger_of_training_and_run_sizes(stress_values):
    values, fit = stress_values
    estimator = ErrorEstimator({"stress": 10.0})
    p = np.zeros(3)

    def part(gamma, relative):
        return estimator.estimate({"stress": fit}, {"stress": values(np.array(gamma), relative), "p": p})["stress"]

    assert part([1.0, 0.0, 0.0], 0.2) == pytest.approx(0.2 / np.sqrt(1.04) * 1.0 / 10.0, rel=1e-10)  # 10x below the training's size
    assert part([0.0, 20.0, 0.0], 0.05) == pytest.approx(0.05 / np.sqrt(1.0025), rel=1e-10)  # above it: the field's own size
    assert part([0.0, 0.0, 2.0], 0.2) == pytest.approx(0.2 / np.sqrt(1.04) * 2.0 / 20.0, rel=1e-10)  # the run's largest size is kept


def test_estimate_without_a_basis_is_all_error():
    empty = GappyPOD(np.zeros((5, 0)), np.array([0, 2]))
    estimator = ErrorEstimator({"stress": 0.0, "p": 0.0})
    parts = estimator.estimate({"stress": empty, "p": empty}, {"stress": np.zeros(2), "p": np.array([0.0, 1e-3])})
    assert parts["p"] == 1.0 and parts["stress"] == 0.0


def test_history_is_the_stress_part_averaged_over_the_flow_of_p(stress_values):
    """Hand-computed: increments whose stress parts are s_k and whose p at the reduced points moves by dp_k give
    sum(s_k dp_k) / sum(dp_k); a restart (after a full-model step) counts the next p as flow without the old errors."""
    values, fit = stress_values
    big = np.array([0.0, 50.0, 0.0])  # above the training size: each part is r / sqrt(1 + r^2)
    estimator = ErrorEstimator({"stress": 1.0})
    relatives, ps = [0.1, 0.3, 0.2, 0.4], [np.array([0.0, 0.0]), np.array([3.0, 4.0]), np.array([3.0, 4.0]), np.array([6.0, 8.0])]
    history = []
    for relative, p in zip(relatives, ps, strict=True):
        history.append(estimator.estimate({"stress": fit}, {"stress": values(big, relative), "p": p})["history"])
    s = np.array(relatives) / np.sqrt(1 + np.array(relatives) ** 2)
    assert history[0] == 0.0  # no flow yet
    assert history[1] == pytest.approx(s[1], rel=1e-12)  # flow 5 at s_1
    assert history[2] == pytest.approx(s[1], rel=1e-12)  # no flow: unchanged
    assert history[3] == pytest.approx((5 * s[1] + 5 * s[3]) / 10, rel=1e-12)
    estimator.restart(inherited=0.02)
    assert estimator.carried == 0.02
    again = estimator.estimate({"stress": fit}, {"stress": values(big, 0.0), "p": np.array([6.0, 8.0])})
    assert again["history"] == pytest.approx(0.0, abs=1e-14)  # all of p (10) counted as flow without (round-off) error
    later = estimator.estimate({"stress": fit}, {"stress": values(big, 0.5), "p": np.array([9.0, 12.0])})["history"]
    assert later == pytest.approx(5 * 0.5 / np.sqrt(1.25) / 15, rel=1e-12)


def test_the_estimate_is_the_largest_weighted_part():
    parts = {"stress": 0.02, "p": 0.01, "history": 0.05}
    assert ErrorEstimator({}).total(parts) == 0.02  # uncalibrated: the history is not used
    assert ErrorEstimator({}, {"stress": 0.5, "p": 3.0, "history": 0.4}).total(parts) == pytest.approx(0.03)
    calibrated = ErrorEstimator({}, {"stress": 0.5, "p": 3.0, "history": 0.4})
    assert calibrated.model_error(parts) == pytest.approx(0.03)  # what an enrichment removes: not the history
    calibrated.restart(inherited=0.04)  # a full-model step from a state estimated at 0.04 keeps its error
    calibrated.restart(inherited=0.01)  # the largest inherited error stays
    assert calibrated.total(parts) == 0.04 and calibrated.model_error(parts) == pytest.approx(0.03)
    table = np.array([[0.02, 0.01, 0.05], [0.1, 0.0, 0.0]])
    assert np.allclose(combined(UNCALIBRATED, table), [0.02, 0.1])


def test_calibration_recovers_the_weights_that_made_the_truth():
    """True errors made by known weights (on the calibration grid) from random parts: the fit finds them, and the
    calibrated estimate is exact where the uncalibrated one is off by the weights."""
    rng = np.random.default_rng(1)
    table = 10.0 ** rng.uniform(-3.0, -0.5, size=(60, 3))
    weights = {"stress": 10.0**-0.25, "p": 0.0, "history": 10.0**0.5}
    truth = combined(weights, table)
    parts = [dict(zip(UNCALIBRATED, row, strict=True)) for row in table]
    fitted = calibrate(parts, truth)
    assert fitted is not None
    assert fitted == pytest.approx(weights, rel=1e-9)
    assert worst_factor(combined(fitted, table), truth) == pytest.approx(1.0, rel=1e-9)
    assert worst_factor(combined(UNCALIBRATED, table), truth) > 2.0
    assert calibrate(parts, np.full(60, 1e-4)) is None  # nothing above 0.1 %: nothing to fit


def test_worst_factor_counts_both_directions_above_the_threshold():
    truth = np.array([1e-4, 0.01, 0.02, 0.5])
    assert worst_factor(np.array([1.0, 0.03, 0.01, 0.5]), truth) == pytest.approx(3.0)
    assert np.isnan(worst_factor(np.ones(2), np.array([1e-4, 1e-5])))


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
