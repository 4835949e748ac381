"""Initial conditions against closed forms: Kepler orbits and hierarchical triples."""

import numpy as np
import pytest

from nbody.initial_conditions import hierarchical_triple, kepler_orbit


@pytest.mark.parametrize("eccentricity, anomaly", [(0.0, 0.3), (0.5, 0.0), (0.5, 2.0), (0.9, np.pi)])
def test_a_kepler_orbit_has_the_energy_and_angular_momentum_of_its_elements(eccentricity, anomaly):
    mass, axis = 2.0, 1.7
    x, v = kepler_orbit(mass, axis, eccentricity, anomaly)
    assert 0.5 * v @ v - mass / np.linalg.norm(x) == pytest.approx(-mass / (2.0 * axis), rel=1e-12)
    assert np.linalg.norm(np.cross(x, v)) == pytest.approx(np.sqrt(mass * axis * (1.0 - eccentricity**2)), rel=1e-12)
    assert np.linalg.norm(x) == pytest.approx(axis * (1.0 - eccentricity**2) / (1.0 + eccentricity * np.cos(anomaly)), rel=1e-12)
    with pytest.raises(ValueError, match="bound orbit"):
        kepler_orbit(mass, axis, 1.0, anomaly)


def _axis(mass, dx, dv):
    """Semi-major axis of a relative orbit from its energy."""
    return -mass / (2.0 * (0.5 * dv @ dv - mass / np.linalg.norm(dx)))


def test_a_hierarchical_triple_has_its_inner_and_outer_orbits():
    for seed in range(20):
        system = hierarchical_triple(seed)
        x, v, m = system.positions, system.velocities, system.masses
        np.testing.assert_allclose(m @ x, 0.0, atol=1e-12)
        np.testing.assert_allclose(m @ v, 0.0, atol=1e-12)
        assert 1.0 <= _axis(2.0, x[1] - x[0], v[1] - v[0]) <= 2.0
        centre_x, centre_v = 0.5 * (x[0] + x[1]), 0.5 * (v[0] + v[1])
        assert 15.0 <= _axis(3.0, x[2] - centre_x, v[2] - centre_v) <= 25.0
    assert not np.allclose(hierarchical_triple(1).positions, hierarchical_triple(2).positions)
    assert np.ptp(hierarchical_triple(3).positions[:, 2]) > 0.0  # not planar
