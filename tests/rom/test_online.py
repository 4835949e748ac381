"""The adaptive ROM on a temperature field outside its training range: indicator and enrichment."""

from dataclasses import replace

import numpy as np
import pytest
from scipy.stats import spearmanr

from rom.hifi import HifiSolver
from rom.online import AdaptiveROM, build_offline, force_integrands


def online_run(training, target, enrichment, indicator_tolerance=0.003):
    offline = build_offline(training.space, training.mass, training.increments)
    history, problem = target.case.loading.history, target.problem
    full_load = history.times[1]
    unit_force = problem.external_force(full_load) / history.factor(full_load)
    rom = AdaptiveROM(
        offline,
        HifiSolver(problem),
        training.mass,
        unit_force,
        history.factor,
        lambda points: lambda t: problem.temperature_at_points(t)[points],
        enrichment=enrichment,
        tolerance=indicator_tolerance,
    )
    weights, mass = training.space.weights.ravel(), training.mass
    u_errors, p_errors, true_errors = [], [], []
    sizes = [offline.scales["displacement"], offline.scales["p"]]  # the estimate's references: trained or run sizes

    def compare(index, step):  # at the moment of the step (a later enrichment changes the points and the bases)
        reference = target.increments[index]
        difference = rom.offline.modes[:, : step.coordinates.size] @ step.coordinates - reference.displacement
        u_error = np.sqrt(difference @ (mass @ difference))
        u_errors.append(u_error / np.sqrt(reference.displacement @ (mass @ reference.displacement)))
        p_true = reference.state.cumulated_plasticity[step.points]
        p_errors.append(np.linalg.norm(step.p_reduced - p_true) / max(np.linalg.norm(p_true), 1e-300))
        p_difference = rom.p_fit.reconstruct(step.p_reduced) - reference.state.cumulated_plasticity
        sizes[0] = max(sizes[0], np.sqrt(reference.displacement @ (mass @ reference.displacement)))
        sizes[1] = max(sizes[1], np.sqrt(weights @ reference.state.cumulated_plasticity**2))
        true_errors.append(max(u_error / sizes[0], np.sqrt(weights @ p_difference**2) / sizes[1]))

    steps = rom.run(target.times, compare)
    return rom, steps, np.array(u_errors), np.array(p_errors), np.array(true_errors)


@pytest.mark.slow
def test_enrichment_repairs_the_rom_outside_its_training_range(blade_training, hotter_blade):
    plain, plain_steps, plain_u, plain_p, plain_true = online_run(blade_training, hotter_blade, enrichment=False)
    rom, steps, u_errors, p_errors, true_errors = online_run(blade_training, hotter_blade, enrichment=True)
    assert plain.n_enrichments == 0 and rom.n_enrichments >= 1
    assert sum(step.enriched for step in steps) == rom.n_enrichments
    # the error relative to the run's size (what the tolerance 0.003 is on) stays near the tolerance
    assert true_errors.max() < 2 * 0.003 and plain_true.max() > 0.05
    assert plain_u.max() > 3 * u_errors.max() and plain_p.max() > 2 * p_errors.max()
    # the cubature, updated from its points at each enrichment, integrates every stress snapshot (training and
    # enrichment) against every mode (the initial and the added ones) as the full quadrature does, to the
    # enrichment's cubature tolerance (1 % of the online tolerance; the span truncated at it too)
    integrands = force_integrands(blade_training.space, rom.offline.stresses, rom.offline.modes)
    exact = integrands.T @ blade_training.space.weights.ravel()
    cubature = rom.offline.cubature
    assert len(rom.offline.stresses) == len(blade_training.increments) + rom.n_enrichments
    assert rom.cubature_tolerance == pytest.approx(0.01 * 0.003)
    error = np.linalg.norm(integrands[cubature.points].T @ cubature.weights - exact) / np.linalg.norm(exact)
    assert error <= 5 * rom.cubature_tolerance, error


def test_estimated_error_follows_the_true_error(blade_training, hotter_blade):
    """The plain ROM inside and outside its training: the estimate ranks the true error of u and p (relative to the
    larger of the training's and the run's sizes) and is within 3x of it wherever it exceeds 0.1 %."""
    estimates, errors = [], []
    for target in (blade_training, hotter_blade):
        _, steps, _, _, true_errors = online_run(blade_training, target, enrichment=False)
        estimates += [step.indicator for step in steps]
        errors += list(true_errors)
        assert all(set(step.indicator_parts) == {"stress", "p", "history"} for step in steps)
    estimates, errors = np.array(estimates), np.array(errors)
    assert spearmanr(estimates, errors)[0] > 0.8, spearmanr(estimates, errors)[0]
    outside = errors > 1e-3
    assert outside.sum() >= 5  # the hotter blade's errors
    ratio = estimates[outside] / errors[outside]
    assert ratio.min() > 1 / 3 and ratio.max() < 3, ratio
    assert estimates[~outside].max() < 3e-3  # inside the training: no false alarm at the default tolerance


def loading_of(target):
    """What ``AdaptiveROM`` takes of a loading: the full model, the unit force, the load factor, the temperatures."""
    problem, history = target.problem, target.case.loading.history
    unit_force = problem.external_force(history.times[1]) / history.factor(history.times[1])
    return HifiSolver(problem), unit_force, history.factor, lambda points: lambda t: problem.temperature_at_points(t)[points]


def test_a_rom_carried_to_another_loading_is_a_new_rom_of_its_bases(blade_training, hotter_blade):
    """``with_loading`` (a campaign's next loading) runs exactly as a new ``AdaptiveROM`` of the same bases and
    cubature, enrichments included, and enriching it leaves the ROM it came from as it was."""
    offline = build_offline(blade_training.space, blade_training.mass, blade_training.increments)
    hifi, *rest = loading_of(blade_training)
    base = AdaptiveROM(offline, hifi, blade_training.mass, *rest, tolerance=0.003)
    base.run(blade_training.times)  # its own training loading: no enrichment
    assert base.n_enrichments == 0
    hifi, *rest = loading_of(hotter_blade)
    fresh = AdaptiveROM(base.offline, hifi, blade_training.mass, *rest, tolerance=0.003)
    carried = base.with_loading(*loading_of(hotter_blade))
    runs = [rom.run(hotter_blade.times) for rom in (fresh, carried)]
    for a, b in zip(*runs, strict=True):
        assert np.array_equal(a.coordinates, b.coordinates) and a.indicator == b.indicator and a.enriched == b.enriched
    assert carried.n_enrichments == fresh.n_enrichments >= 1
    assert carried.offline.modes.shape[1] > base.offline.modes.shape[1] == offline.modes.shape[1] == base.model.n_modes
    # back to the cooler loading: the hotter enrichments' stresses are now part of the estimate's reference size
    hifi, *rest = loading_of(blade_training)
    fresh = AdaptiveROM(carried.offline, hifi, blade_training.mass, *rest, tolerance=0.003)
    back = carried.with_loading(*loading_of(blade_training))
    assert back.estimator.scales == fresh.estimator.scales
    runs = [rom.run(blade_training.times) for rom in (fresh, back)]
    assert [step.indicator for step in runs[0]] == [step.indicator for step in runs[1]]


def test_a_rom_without_its_stress_basis_builds_the_offline_one(blade_training):
    """A ROM file from before the offline phase built the estimate's stress basis: the online run builds the same."""
    offline = build_offline(blade_training.space, blade_training.mass, blade_training.increments)
    hifi, *rest = loading_of(blade_training)
    rom = AdaptiveROM(replace(offline, stress_modes=None), hifi, blade_training.mass, *rest)
    assert offline.stress_modes is not None and np.array_equal(rom.offline.stress_modes, offline.stress_modes)
