"""System validation and the centre-of-mass frame."""

import numpy as np
import pytest

from nbody.errors import ArgumentError
from nbody.state import System, centre_of_mass_frame


def make(**overrides):
    arrays = {"masses": [1.0, 2.0, 3.0], "positions": np.eye(3), "velocities": np.zeros((3, 3))}
    arrays.update(overrides)
    return System(**arrays)


@pytest.mark.parametrize(
    "overrides, field, text",
    [
        ({"masses": [1.0, 0.0, 3.0]}, ("masses", 1), "must be positive"),
        ({"masses": [1.0, 2.0, -3.0]}, ("masses", 2), "must be positive"),
        ({"masses": [1.0, np.nan, 3.0]}, ("masses", 1), "must be finite"),
        ({"positions": [[0, 0, 0], [1, 0, np.inf], [0, 1, 0]]}, ("positions", 1, 2), "must be finite"),
        ({"velocities": [[0, 0, 0], [0, 0, 0], [np.nan, 0, 0]]}, ("velocities", 2, 0), "must be finite"),
        ({"positions": [[0, 0, 0], [0, 0, 0], [0, 1, 0]]}, ("positions",), "bodies 0 and 1 are at the same place"),
        ({"positions": np.zeros((2, 3))}, ("positions",), "shape (3, 3)"),
        ({"masses": [1.0]}, ("masses",), "at least 2"),
        ({"masses": ["a", "b", "c"]}, ("masses",), "array of numbers"),
        ({"softening": -0.1}, ("softening",), ">= 0"),
    ],
)
def test_bad_systems_raise_an_argument_error(overrides, field, text):
    with pytest.raises(ArgumentError) as info:
        make(**overrides)
    assert info.value.argument == field
    assert text in str(info.value)


def test_coincident_bodies_allowed_with_softening():
    system = make(positions=[[0, 0, 0], [0, 0, 0], [0, 1, 0]], softening=0.1)
    assert system.softening == 0.1


def test_centre_of_mass_frame():
    rng = np.random.default_rng(0)
    system = System(rng.uniform(1, 2, 4), rng.standard_normal((4, 3)), rng.standard_normal((4, 3)))
    moved = centre_of_mass_frame(system)
    position, velocity = moved.centre_of_mass()
    assert np.abs(position).max() < 1e-15 and np.abs(velocity).max() < 1e-15
    np.testing.assert_allclose(moved.positions[1] - moved.positions[0], system.positions[1] - system.positions[0], atol=1e-15)
    assert moved.total_mass == pytest.approx(system.total_mass)
