"""The hyper-reduced online model against the high-fidelity run it was trained on."""

import numpy as np

from rom.hyperreduction import Cubature, empirical_cubature
from rom.pod import pod
from rom.reduced import ReducedModel

from .test_hyperreduction import reduced_force_integrands


def rom_errors(training, modes, cubature):
    problem, history = training.problem, training.case.loading.history
    full_load = history.times[1]  # the end of the ramp, load factor 1
    unit_force = modes.T @ problem.external_force(full_load) / history.factor(full_load)
    model = ReducedModel(
        training.space, problem.material, modes, cubature,
        lambda t: history.factor(t) * unit_force,
        lambda t: problem.temperature_at_points(t)[cubature.points],
    )
    increment, errors, p_errors = model.initial(), [], []
    for reference in training.increments:
        increment = model.step(increment, reference.time)
        difference = modes @ increment.coordinates - reference.displacement
        norm = np.sqrt(reference.displacement @ (training.mass @ reference.displacement))
        errors.append(np.sqrt(difference @ (training.mass @ difference)) / norm)
        p_true = reference.state.cumulated_plasticity[cubature.points]
        p_errors.append(np.abs(increment.state.cumulated_plasticity - p_true).max() / max(p_true.max(), 1e-30))
    return np.array(errors), np.array(p_errors), model


def test_rom_reproduces_its_training_history(blade_training):
    modes = pod(blade_training.displacements, blade_training.mass, tolerance=1e-6).modes
    weights = blade_training.space.weights.ravel()
    cubature = empirical_cubature(reduced_force_integrands(blade_training, modes), weights, tolerance=1e-6)
    errors, p_errors, model = rom_errors(blade_training, modes, cubature)
    assert errors.max() < 1e-3
    assert p_errors[-1] < 0.02
    # online arrays are sized by the reduced points and modes only
    assert model.b_modes.shape == (cubature.size, 6, modes.shape[1])
    full = Cubature(np.arange(weights.size), weights, 0.0)
    errors_full, _, _ = rom_errors(blade_training, modes, full)
    assert errors_full.max() < 1e-4  # without hyper-reduction only the POD truncation remains


def test_fewer_modes_give_larger_errors(blade_training):
    weights = blade_training.space.weights.ravel()
    results = []
    for tolerance in (1e-2, 1e-5):
        modes = pod(blade_training.displacements, blade_training.mass, tolerance=tolerance).modes
        cubature = empirical_cubature(reduced_force_integrands(blade_training, modes), weights, tolerance=1e-6)
        results.append(rom_errors(blade_training, modes, cubature)[0].max())
    assert results[1] < 0.2 * results[0]
