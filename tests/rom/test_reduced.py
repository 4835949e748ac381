"""The hyper-reduced online model against the high-fidelity run it was trained on."""

import numpy as np
import pytest

from rom.hyperreduction import Cubature, empirical_cubature
from rom.pod import pod
from rom.reduced import ReducedModel

from .test_hyperreduction import reduced_force_integrands


def rom_errors(training, modes, cubature):
    problem, history = training.problem, training.case.loading.history
    full_load = history.times[1]  # the end of the ramp, load factor 1
    unit_force = modes.T @ problem.external_force(full_load) / history.factor(full_load)
    model = ReducedModel(
        training.space,
        problem.material,
        modes,
        cubature,
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


def test_online_work_is_sized_by_the_reduced_points_not_the_mesh():
    """Two meshes 4x apart in dofs, the same number of reduced points and modes: the same online arrays and work."""
    from pathlib import Path

    from adaptsim.cases import load_case
    from rom.problem import build_problem, temperature_factory

    case_file = Path(__file__).resolve().parents[2] / "cases" / "blade_rom.yaml"
    sizes = {}
    for divisions in ("[4,1,5]", "[8,2,10]"):
        case = load_case(case_file, [f"mesh.divisions={divisions}"]).case
        mesh, space, problem = build_problem(case)
        rng = np.random.default_rng(0)
        modes = np.linalg.qr(rng.normal(size=(space.n_dofs, 6)))[0] * problem.free[:, None]
        points = np.sort(rng.choice(space.n_points, 40, replace=False))
        cubature = Cubature(points, np.full(40, space.volume() / 40), 0.0)
        temperature = temperature_factory(case, mesh, space)(points)
        visited: list[int] = []  # integration points the constitutive law is evaluated at, per call

        class CountingMaterial:
            def __getattr__(self, name, material=problem.material):
                return getattr(material, name)

            def update(self, strain, *args, material=problem.material, visited=visited, **kwargs):
                visited.append(strain.shape[0])
                return material.update(strain, *args, **kwargs)

        model = ReducedModel(space, CountingMaterial(), modes, cubature, lambda t: np.zeros(6), temperature)
        full_mesh_work = ["strain", "internal_force", "element_matrices", "at_points"]
        originals = {name: getattr(space, name) for name in full_mesh_work}
        for name in full_mesh_work:  # the online increment must not touch the full space
            setattr(space, name, lambda *args, name=name: pytest.fail(f"online work on the full mesh: space.{name}"))
        increment = model.newton(model.initial(), 10.0)
        for name, method in originals.items():
            setattr(space, name, method)
        assert visited and set(visited) == {40}, visited
        sizes[space.n_dofs] = (
            model.b_modes.shape,
            temperature(10.0).shape,
            increment.state.cumulated_plasticity.shape,
            increment.coordinates.shape,
        )
    (small, large), (a, b) = sorted(sizes), sorted(sizes.items())
    assert large > 4 * small
    assert a[1] == b[1] == ((40, 6, 6), (40,), (40,), (6,))
