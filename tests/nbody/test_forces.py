"""Forces against a direct NumPy formula, jerks against finite differences."""

import numpy as np
import pytest

from nbody.forces import accelerations, accelerations_jerks, collision_time, free_fall_time, potential_energy


def direct_accelerations(m, x, eps2):
    d = x[None, :, :] - x[:, None, :]  # d[i, j] = x_j - x_i
    r2 = (d**2).sum(-1) + eps2
    np.fill_diagonal(r2, np.inf)
    return (m[None, :, None] * d / r2[..., None] ** 1.5).sum(axis=1)


@pytest.mark.parametrize("eps2", [0.0, 0.01])
def test_accelerations_match_direct_sum(eps2):
    rng = np.random.default_rng(0)
    m, x = rng.uniform(0.5, 2, 5), rng.standard_normal((5, 3))
    a = np.empty((5, 3))
    accelerations(m, x, eps2, a)
    np.testing.assert_allclose(a, direct_accelerations(m, x, eps2), rtol=1e-13, atol=1e-14)
    assert np.abs(m @ a).max() < 1e-14  # Newton's third law: no net force


def test_jerk_is_the_time_derivative_of_the_acceleration():
    rng = np.random.default_rng(1)
    m, x, v = rng.uniform(0.5, 2, 4), rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    a, j = np.empty((4, 3)), np.empty((4, 3))
    accelerations_jerks(m, x, v, 0.0, a, j)
    h = 1e-5
    a_plus, a_minus = np.empty((4, 3)), np.empty((4, 3))
    accelerations(m, x + h * v, 0.0, a_plus)
    accelerations(m, x - h * v, 0.0, a_minus)
    np.testing.assert_allclose(j, (a_plus - a_minus) / (2 * h), rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(a, direct_accelerations(m, x, 0.0), rtol=1e-13)


def test_potential_energy_and_time_scales():
    m = np.array([1.0, 3.0])
    x = np.array([[0.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
    assert potential_energy(m, x, 0.0) == pytest.approx(-1.5)
    # Free fall sqrt(r^3 / (m1 + m2)) = sqrt(8 / 4); equal velocities (r / v = inf) must not raise.
    assert free_fall_time(m, x, 0.0) == pytest.approx(np.sqrt(2.0))
    v = np.array([[0.3, 0.1, 0.0], [0.3, 0.1, 0.0]])
    assert collision_time(m, x, v, 0.0) == pytest.approx(np.sqrt(2.0))
    v[1, 0] += 10.0  # r / v = 0.2 now wins
    assert collision_time(m, x, v, 0.0) == pytest.approx(0.2)
