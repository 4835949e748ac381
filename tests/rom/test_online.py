"""The adaptive ROM on a temperature field outside its training range: indicator and enrichment."""

import numpy as np
import pytest
from scipy.stats import spearmanr

from rom.hifi import HifiSolver
from rom.online import AdaptiveROM, build_offline, force_integrands
from rom.tolerances import Tolerances


def online_run(training, target, enrichment, indicator_tolerance=0.003):
    offline = build_offline(training.space, training.mass, training.increments, Tolerances(indicator=indicator_tolerance))
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
    )
    steps = rom.run(target.times)
    u_errors, p_errors = [], []
    for step, reference in zip(steps, target.increments, strict=True):
        difference = rom.offline.modes[:, : step.coordinates.size] @ step.coordinates - reference.displacement
        u_errors.append(
            np.sqrt(difference @ (training.mass @ difference)) / np.sqrt(reference.displacement @ (training.mass @ reference.displacement))
        )
        p_true = reference.state.cumulated_plasticity[step.points]
        p_errors.append(np.linalg.norm(step.p_reduced - p_true) / max(np.linalg.norm(p_true), 1e-300))
    return rom, steps, np.array(u_errors), np.array(p_errors)


@pytest.mark.slow
def test_enrichment_repairs_the_rom_outside_its_training_range(blade_training, hotter_blade):
    plain, plain_steps, plain_u, plain_p = online_run(blade_training, hotter_blade, enrichment=False)
    rom, steps, u_errors, p_errors = online_run(blade_training, hotter_blade, enrichment=True)
    assert plain.n_enrichments == 0 and rom.n_enrichments >= 1
    assert sum(step.enriched for step in steps) == rom.n_enrichments
    assert u_errors.max() < 0.01 and p_errors.max() < 0.05
    assert plain_u.max() > 5 * u_errors.max() and plain_u.max() > 0.05
    assert plain_p.max() > 2 * p_errors.max()
    # the cubature, updated from its points at each enrichment, integrates every stress snapshot (training and
    # enrichment) against every mode (the initial and the added ones) as the full quadrature does
    integrands = force_integrands(blade_training.space, rom.offline.stresses, rom.offline.modes)
    exact = integrands.T @ blade_training.space.weights.ravel()
    cubature = rom.offline.cubature
    assert len(rom.offline.stresses) == len(blade_training.increments) + rom.n_enrichments
    assert np.linalg.norm(integrands[cubature.points].T @ cubature.weights - exact) <= 1e-5 * np.linalg.norm(exact)


def test_indicator_ranks_the_true_error(blade_training, hotter_blade):
    indicators, errors = [], []
    for target in (blade_training, hotter_blade):
        _, steps, _, p_errors = online_run(blade_training, target, enrichment=False)
        indicators += [step.indicator for step in steps]
        errors += list(p_errors)
    correlation = spearmanr(indicators, errors)[0]
    assert correlation > 0.7, correlation
