"""The constitutive laws against closed-form uniaxial solutions, finite differences and bad input."""

import numpy as np
import pytest
from scipy.integrate import quad

from adaptsim.errors import InputError
from rom.materials import ElasticMaterial, MaterialState, TemperatureTable, ViscoplasticMaterial
from rom.materials.point import uniaxial
from rom.materials.tensors import from_matrix, to_matrix, von_mises

E, NU = 200e9, 0.3


def constant(name, value):
    return TemperatureTable.constant(name, value)


def chaboche(k=300e6, n=10.0, r0=10e6, c=1e9, d=100.0, alpha=0.0):
    return ViscoplasticMaterial(
        constant("young", E),
        constant("poisson", NU),
        constant("expansion", alpha),
        norton_k=constant("k", k),
        norton_n=constant("n", n),
        yield_stress=constant("r0", r0),
        hardening_c=constant("c", c),
        hardening_d=constant("d", d),
    )


def creep_time(p, sigma, k, n, r0, c, d):
    """t(p) = int_0^p (K / (sigma - R0 - C/D (1 - exp(-D q))))^n dq."""
    return quad(lambda q: (k / (sigma - r0 - c / d * (1.0 - np.exp(-d * q)))) ** n, 0.0, p, epsabs=0.0, epsrel=1e-12, limit=200)[0]


def creep_time_errors(n_steps, sigma=150e6):
    material = chaboche()
    times = np.concatenate([[0.0], np.geomspace(1e-3, 1e4, n_steps)])
    history = uniaxial(material, times, 293.15, stress=np.where(times > 0, sigma, 0.0))
    picks = range(n_steps // 10, n_steps + 1, n_steps // 10)
    errors = [creep_time(history.cumulated_plasticity[i], sigma, 300e6, 10.0, 10e6, 1e9, 100.0) / times[i] - 1 for i in picks]
    total_strain = history.strain[1:] - sigma / E - history.cumulated_plasticity[1:]
    return np.abs(errors).max(), np.abs(total_strain).max(), history


def test_creep_with_threshold_and_kinematic_hardening_matches_the_integral():
    coarse, _, _ = creep_time_errors(100)
    fine, strain_defect, history = creep_time_errors(1600)
    assert fine < 1e-3
    assert 13.0 < coarse / fine < 17.0  # backward Euler: first order in the step
    assert strain_defect < 1e-9  # axial strain = sigma / E + p (uniaxial flow, lateral strain plastic)
    assert history.cumulated_plasticity[-1] == pytest.approx(2.341, rel=1e-3)


def test_relaxation_at_fixed_strain_matches_pure_norton():
    k, n = 300e6, 5.0
    material = chaboche(k=k, n=n, r0=0.0, c=0.0, d=0.0)
    sigma0 = 200e6
    times = np.concatenate([[0.0, 1e-9], 1e-9 + np.geomspace(1e-4, 1e3, 2000)])
    history = uniaxial(material, times, 293.15, strain=np.where(times > 0, sigma0 / E, 0.0))
    t = times[2:] - times[1]
    exact = (history.stress[1] ** (1 - n) + (n - 1) * E * k ** (-n) * t) ** (-1.0 / (n - 1))
    assert history.stress[1] == pytest.approx(sigma0, rel=1e-6)
    assert np.abs(history.stress[2:] / exact - 1).max() < 2e-3
    assert exact[-1] < 0.3 * sigma0  # the stress really relaxed


@pytest.mark.parametrize("x_old", [0.0, 4e7])
def test_consistent_tangent_matches_finite_differences(x_old):
    material = chaboche(n=7.0, d=300.0)
    rng = np.random.default_rng(3)
    strain = rng.normal(scale=2e-3, size=(5, 6))
    state = MaterialState.zeros(5)
    state.backstress[:] = x_old * np.array([1.0, -0.5, -0.5, 0.3, 0.0, 0.1])
    state.plastic_strain[:] = rng.normal(scale=1e-4, size=(5, 6))
    temperature = np.full(5, 293.15)
    result = material.update(strain, temperature, 0.5, state)
    assert np.all(result.state.cumulated_plasticity > 0)
    h = 1e-9
    for j in range(6):
        plus, minus = strain.copy(), strain.copy()
        plus[:, j] += h
        minus[:, j] -= h
        column = (material.update(plus, temperature, 0.5, state).stress - material.update(minus, temperature, 0.5, state).stress) / (2 * h)
        assert np.allclose(result.tangent[:, :, j], column, rtol=1e-5, atol=1e-6 * E)


def test_tangent_is_unsymmetric_only_with_a_recalled_backstress():
    material = chaboche(n=7.0, d=300.0)
    strain = np.array([[3e-3, -1e-3, -1e-3, 5e-4, 0, 0]])
    fresh = material.update(strain, np.array([293.15]), 0.5, MaterialState.zeros(1)).tangent[0]
    assert np.abs(fresh - fresh.T).max() < 1e-6 * E
    state = MaterialState.zeros(1)
    state.backstress[0] = [4e7, -2e7, -2e7, 0, 0, 0]
    loaded = material.update(strain, np.array([293.15]), 0.5, state).tangent[0]
    assert np.abs(loaded - loaded.T).max() > 1e-4 * E


def test_elastic_free_thermal_expansion_and_stiffness():
    material = ElasticMaterial(
        constant("young", E),
        constant("poisson", NU),
        TemperatureTable("expansion", (1e-5, 2e-5), (300.0, 1300.0)),
        reference_temperature=300.0,
    )
    temperature = np.array([300.0, 800.0, 1300.0])
    thermal = material.thermal_strain(temperature)
    assert np.allclose(thermal[:, 0], [0.0, 1.5e-5 * 500.0, 2e-5 * 1000.0])
    result = material.update(thermal, temperature, 1.0, MaterialState.zeros(3))
    assert np.abs(result.stress).max() < 1e-8 * E * 1e-2
    uniaxial_strain = np.zeros((1, 6))
    uniaxial_strain[0, 0] = 1e-3
    stress = material.update(uniaxial_strain, np.array([300.0]), 1.0, MaterialState.zeros(1)).stress[0]
    lame = E * NU / ((1 + NU) * (1 - 2 * NU))
    assert stress[0] == pytest.approx((lame + E / (1 + NU)) * 1e-3, rel=1e-14)
    assert stress[1] == pytest.approx(lame * 1e-3, rel=1e-14)


def test_mandel_notation_round_trip_and_von_mises():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 3, 3))
    sym = a + np.swapaxes(a, 1, 2)
    vec = from_matrix(sym)
    assert np.allclose(to_matrix(vec), sym)
    assert np.allclose(np.einsum("nij,nij->n", sym, sym), np.einsum("ni,ni->n", vec, vec))
    assert von_mises(np.array([[100.0, 0, 0, 0, 0, 0]]))[0] == pytest.approx(100.0)
    shear = from_matrix(np.array([[0, 1.0, 0], [1.0, 0, 0], [0, 0, 0]]))
    assert von_mises(shear) == pytest.approx(np.sqrt(3.0))


def test_temperature_tables_interpolate_and_refuse_to_extrapolate():
    table = TemperatureTable("material.young", (200e9, 150e9), (300.0, 1100.0))
    assert table(np.array([700.0]))[0] == pytest.approx(175e9)
    with pytest.raises(InputError, match=r"material\.young: temperature 1200 K is outside the table's range \[300, 1100\] K"):
        table(np.array([800.0, 1200.0]))
    with pytest.raises(InputError, match="strictly increasing"):
        TemperatureTable("material.young", (1.0, 2.0), (300.0, 300.0))
