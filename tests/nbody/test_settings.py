"""One settings object per integrator: the table's parameters and defaults, validation, and runs identical to names."""

import numpy as np
import pytest

from nbody import initial_conditions as ic
from nbody import simulate
from nbody.batch import integrate_batch
from nbody.case import IntegratorSpec
from nbody.errors import ArgumentError
from nbody.integrators.settings import (
    SETTINGS,
    ArchainSettings,
    HermiteSettings,
    IAS15Settings,
    LeapfrogSettings,
    RKSettings,
    as_settings,
    settings_for,
)
from nbody.integrators.table import BY_NAME, INTEGRATOR_NAMES, STEP_TABLE


def test_a_settings_class_per_row_of_the_table_with_its_parameter():
    assert tuple(SETTINGS) == INTEGRATOR_NAMES
    for name, cls in SETTINGS.items():
        adaptive, fixed = cls.parameter_names()
        assert adaptive == BY_NAME[name].parameter and fixed == "dt"
        default = cls()
        assert (default.parameter_name, default.parameter) == BY_NAME[name].default


@pytest.mark.parametrize(
    "settings, step_function, parameter, label",
    [
        (HermiteSettings(eta=0.01), "step_aarseth", ("eta", 0.01), "hermite eta=0.01"),
        (HermiteSettings(eta=4e-3, criterion="collision"), "step_collision", ("eta", 4e-3), "hermite eta=0.004 (collision)"),
        (HermiteSettings(dt=1e-3, criterion="collision"), "step_fixed", ("dt", 1e-3), "hermite dt=0.001"),
        (LeapfrogSettings(), "step_fixed", ("dt", 1e-3), "leapfrog dt=0.001"),
        (LeapfrogSettings(eta=0.01), "step_adaptive", ("eta", 0.01), "leapfrog eta=0.01"),
        (RKSettings(tol=1e-8), "step_adaptive", ("tol", 1e-8), "rk tol=1e-08"),
        (IAS15Settings(), "step_adaptive", ("tol", 1e-9), "ias15 tol=1e-09"),
        (ArchainSettings(dt=0.1), "step_fixed", ("dt", 0.1), "archain dt=0.1"),
    ],
)
def test_settings_resolve_to_their_step_function(settings, step_function, parameter, label):
    stepper = settings.stepper()
    assert STEP_TABLE[stepper.code] == (settings.integrator, step_function)
    assert stepper.step is getattr(stepper.module, step_function)
    assert (stepper.parameter_name, stepper.parameter) == parameter
    assert settings.label == label


@pytest.mark.parametrize(
    "make, argument, text",
    [
        (lambda: IAS15Settings(tol=2.0), ("tol",), "must be at most 1, got 2.0"),
        (lambda: IAS15Settings(tol=-1e-9), ("tol",), "must be a finite number > 0"),
        (lambda: RKSettings(tol=1e-9, dt=0.1), ("dt",), "give one of tol, dt, not tol and dt"),
        (lambda: HermiteSettings(criterion="magic"), ("criterion",), "unknown step criterion 'magic'"),
        (lambda: settings_for("ias15", eta=0.1), ("eta",), "integrator 'ias15' takes tol or dt, not eta"),
        (lambda: settings_for("verlet"), ("integrator",), "unknown integrator 'verlet'"),
        (lambda: as_settings(IAS15Settings(), tol=1e-9), ("tol",), "in the settings object, not as tol"),
    ],
)
def test_bad_settings_name_their_argument(make, argument, text):
    with pytest.raises(ArgumentError, match=text) as info:
        make()
    assert info.value.argument == argument


def test_a_criterion_chooses_among_hermites_steps_only():
    assert settings_for("ias15", tol=1e-9, criterion="collision") == IAS15Settings(tol=1e-9)
    assert settings_for("hermite", eta=0.01, criterion="collision") == HermiteSettings(eta=0.01, criterion="collision")


def test_a_settings_object_runs_exactly_as_the_name_and_parameters():
    system = ic.pythagorean()
    by_name = simulate.integrate(system, 5.0, "hermite", eta=0.01, criterion="collision", record_times=[])
    by_settings = simulate.integrate(system, 5.0, HermiteSettings(eta=0.01, criterion="collision"), record_times=[])
    assert np.array_equal(by_name.positions, by_settings.positions) and by_name.n_steps == by_settings.n_steps
    assert by_settings.integrator == "hermite" and (by_settings.parameter_name, by_settings.parameter) == ("eta", 0.01)
    systems = [ic.random_three_body(np.random.default_rng(seed)) for seed in range(2)]
    masses, positions, velocities = (np.array([getattr(s, name) for s in systems]) for name in ("masses", "positions", "velocities"))
    batch_by_name = integrate_batch(masses, positions, velocities, 1.0, "ias15", tol=1e-8)
    batch_by_settings = integrate_batch(masses, positions, velocities, 1.0, IAS15Settings(tol=1e-8))
    assert np.array_equal(batch_by_name.positions, batch_by_settings.positions)


def test_the_case_passes_its_settings_whole():
    spec = IntegratorSpec.model_validate({"name": "hermite", "eta": 0.004, "criterion": "collision"})
    assert spec.settings() == HermiteSettings(eta=0.004, criterion="collision")
    assert spec.label == "hermite eta=0.004 (collision)"
    with pytest.raises(ValueError, match="takes tol or dt, not eta"):
        IntegratorSpec.model_validate({"name": "ias15", "eta": 0.1})
