"""Small-strain constitutive laws with temperature-dependent coefficients, vectorised over integration points.

:class:`ElasticMaterial` is isotropic thermo-elasticity. :class:`ViscoplasticMaterial` adds a von Mises
viscoplastic flow with a threshold (Norton law ``pdot = <(J2(s - X) - R0) / K>^n``) and Armstrong-Frederick
kinematic hardening (``Xdot = 2/3 C epsdot_p - D X pdot``), integrated by backward Euler: the update
reduces to one scalar equation in the increment of cumulated plasticity ``dp`` per point, solved by a
bracketed Newton method, and the consistent tangent follows in closed form (derivation in the
docstring of :meth:`ViscoplasticMaterial.update`), all in one compiled pass over the points (the reduced model
calls it at a few hundred points per Newton iteration, where NumPy's temporaries cost as much as the arithmetic).
See docs/methods.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numba
import numpy as np

from rom.materials.tables import TemperatureTable
from rom.materials.tensors import IDENTITY, deviator, isotropic_stiffness, von_mises

#: Relative tolerance of the local scalar equation.
LOCAL_TOLERANCE = 1e-12
LOCAL_MAX_ITERATIONS = 100


class LocalConvergenceError(RuntimeError):
    """The constitutive update did not converge at some integration point (the caller cuts the increment)."""


@dataclass
class MaterialState:
    """Internal variables at ``n`` integration points: plastic strain, backstress, cumulated plasticity."""

    plastic_strain: np.ndarray
    backstress: np.ndarray
    cumulated_plasticity: np.ndarray

    @classmethod
    def zeros(cls, n_points: int) -> MaterialState:
        """The virgin state."""
        return cls(np.zeros((n_points, 6)), np.zeros((n_points, 6)), np.zeros(n_points))

    def copy(self) -> MaterialState:
        """An independent copy."""
        return MaterialState(self.plastic_strain.copy(), self.backstress.copy(), self.cumulated_plasticity.copy())

    def take(self, index: np.ndarray) -> MaterialState:
        """The state at a subset of points."""
        return MaterialState(self.plastic_strain[index], self.backstress[index], self.cumulated_plasticity[index])


@dataclass
class ConstitutiveResult:
    """Stress and consistent tangent (Mandel notation) and the updated internal variables."""

    stress: np.ndarray
    tangent: np.ndarray
    state: MaterialState
    local_iterations: int = 0


@dataclass(frozen=True)
class Coefficients:
    """The temperature-dependent quantities at the points, evaluated once per increment (not per iteration)."""

    shear: np.ndarray
    stiffness: np.ndarray
    thermal_strain: np.ndarray
    flow: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class ElasticMaterial:
    """Isotropic thermo-elasticity ``sigma = C(T) : (eps - alpha(T) (T - T_ref) I)``.

    Parameters
    ----------
    young, poisson, expansion
        Young's modulus (Pa), Poisson's ratio and the secant thermal expansion coefficient (1/K).
    reference_temperature
        Temperature of zero thermal strain (K).
    density
        Mass density (kg/m^3), for body forces.
    """

    young: TemperatureTable
    poisson: TemperatureTable
    expansion: TemperatureTable = field(default_factory=lambda: TemperatureTable.constant("material.expansion", 0.0))
    reference_temperature: float = 293.15
    density: float = 0.0

    @property
    def tables(self) -> tuple[TemperatureTable, ...]:
        """Every temperature-dependent coefficient (checked against the temperature range before a run)."""
        return (self.young, self.poisson, self.expansion)

    def thermal_strain(self, temperature: np.ndarray) -> np.ndarray:
        """``alpha(T) (T - T_ref) I`` at each point (n, 6)."""
        temperature = np.asarray(temperature, dtype=float)
        return (self.expansion(temperature) * (temperature - self.reference_temperature))[:, None] * IDENTITY

    def coefficients(self, temperature: np.ndarray) -> Coefficients:
        """Shear modulus, stiffness and thermal strain at the points' temperatures."""
        young, poisson = self.young(temperature), self.poisson(temperature)
        return Coefficients(young / (2.0 * (1.0 + poisson)), isotropic_stiffness(young, poisson), self.thermal_strain(temperature))

    def update(
        self, strain: np.ndarray, temperature: np.ndarray, dt: float, state: MaterialState, coefficients: Coefficients | None = None
    ) -> ConstitutiveResult:
        """Stress for total strains (n, 6) at temperatures (n,); the state is unchanged.

        ``coefficients`` (from :meth:`coefficients` at the same temperatures) saves re-evaluating the tables
        in every Newton iteration of an increment.
        """
        coefficients = coefficients or self.coefficients(temperature)
        elastic_strain = strain - coefficients.thermal_strain - state.plastic_strain
        return ConstitutiveResult(np.einsum("nij,nj->ni", coefficients.stiffness, elastic_strain), coefficients.stiffness, state)


@dataclass(frozen=True)
class ViscoplasticMaterial(ElasticMaterial):
    """Elasto-viscoplasticity: Norton flow with threshold ``R0`` and Armstrong-Frederick kinematic hardening.

    Parameters
    ----------
    norton_k
        Norton drag stress ``K`` (Pa s^(1/n)).
    norton_n
        Norton exponent ``n`` (>= 1).
    yield_stress
        Threshold ``R0`` (Pa).
    hardening_c, hardening_d
        Armstrong-Frederick ``C`` (Pa) and ``D`` (-).
    """

    norton_k: TemperatureTable = field(default_factory=lambda: TemperatureTable.constant("material.norton_k", 1.0))
    norton_n: TemperatureTable = field(default_factory=lambda: TemperatureTable.constant("material.norton_n", 1.0))
    yield_stress: TemperatureTable = field(default_factory=lambda: TemperatureTable.constant("material.yield_stress", 0.0))
    hardening_c: TemperatureTable = field(default_factory=lambda: TemperatureTable.constant("material.hardening_c", 0.0))
    hardening_d: TemperatureTable = field(default_factory=lambda: TemperatureTable.constant("material.hardening_d", 0.0))

    @property
    def tables(self) -> tuple[TemperatureTable, ...]:
        """Every temperature-dependent coefficient."""
        return (*super().tables, self.norton_k, self.norton_n, self.yield_stress, self.hardening_c, self.hardening_d)

    def coefficients(self, temperature: np.ndarray) -> Coefficients:
        """Elastic coefficients and the flow coefficients (K, n, R0, C, D) at the points' temperatures."""
        elastic = super().coefficients(temperature)
        names = ("norton_k", "norton_n", "yield_stress", "hardening_c", "hardening_d")
        return Coefficients(
            elastic.shear, elastic.stiffness, elastic.thermal_strain, {name: getattr(self, name)(temperature) for name in names}
        )

    def update(
        self, strain: np.ndarray, temperature: np.ndarray, dt: float, state: MaterialState, coefficients: Coefficients | None = None
    ) -> ConstitutiveResult:
        """Backward-Euler update over a time increment ``dt`` from ``state`` to total strains (n, 6).

        With ``theta = 1 / (1 + D dp)``, the relative stress ``xi = s - X`` is parallel to
        ``xi* = s_trial - theta X_old``, ``N = 3/2 xi* / J2(xi*)`` is the flow direction, and ``dp`` solves

            g(dp) = J2(xi*) - (3G + C theta) dp - R0 - K (dp / dt)^(1/n) = 0.

        Differentiating ``g = 0`` and ``sigma = C : (eps_e_trial - dp N)`` gives the consistent tangent

            C_tan = C - (4 G^2 / H) N (x) N - 3 G dp / J2(xi*) [2G P + (2G D theta^2 / H) (P X_old) (x) N],

        ``P = I_dev - 2/3 N (x) N``, ``H = 3G + C theta - C D theta^2 dp - D theta^2 N : X_old
        + K / (n dt) (dp / dt)^(1/n - 1)``. It is unsymmetric when ``D X_old != 0``.

        Raises
        ------
        LocalConvergenceError
            When the scalar equation does not converge at some point.
        """
        coefficients = coefficients or self.coefficients(temperature)
        flow = coefficients.flow
        stress, tangent, plastic, backstress, cumulated, iterations = _update_points(
            np.ascontiguousarray(strain, dtype=float), coefficients.thermal_strain, coefficients.stiffness, coefficients.shear,
            flow["norton_k"], flow["norton_n"], flow["yield_stress"], flow["hardening_c"], flow["hardening_d"],
            state.plastic_strain, state.backstress, state.cumulated_plasticity, float(dt), LOCAL_TOLERANCE, LOCAL_MAX_ITERATIONS,
        )  # fmt: skip
        if iterations < 0 or not np.isfinite(stress).all():  # compiled code warns of nothing: the elastic trial and
            # its von Mises norm again in NumPy, whose overflow warnings then say where the failure came from
            von_mises(deviator(super().update(strain, temperature, dt, state, coefficients).stress))
        if iterations < 0:
            raise LocalConvergenceError(f"constitutive update did not converge in {LOCAL_MAX_ITERATIONS} iterations")
        return ConstitutiveResult(stress, tangent, MaterialState(plastic, backstress, cumulated), iterations)


@numba.njit(cache=True, error_model="numpy")
def _update_points(
    strain, thermal, stiffness, shear, k, n, r0, c, d, plastic_old, backstress_old, cumulated_old, dt, tolerance, max_iterations
):
    """The update of every point in one compiled pass: trial stress, the flow test, and at the flowing points the
    scalar equation (:func:`_solve_point`), the new internal variables and the tangent correction (:func:`_flow_point`).

    Returns ``(stress, tangent, plastic strain, backstress, cumulated plasticity, most local iterations)``; the
    iterations are -1 when the scalar equation did not converge at some point.
    """
    count = strain.shape[0]
    stress = np.empty((count, 6))
    tangent = stiffness.copy()
    plastic = plastic_old.copy()
    backstress = backstress_old.copy()
    cumulated = cumulated_old.copy()
    elastic = np.empty(6)
    s_trial = np.empty(6)
    increment = np.empty(6)
    correction = np.empty((6, 6))
    normal = np.empty(6)
    p_x = np.empty(6)
    most = 0
    for p in range(count):
        for i in range(6):
            elastic[i] = strain[p, i] - thermal[p, i] - plastic_old[p, i]
        for i in range(6):
            total = 0.0
            for j in range(6):
                total += stiffness[p, i, j] * elastic[j]
            stress[p, i] = total
        third = (stress[p, 0] + stress[p, 1] + stress[p, 2]) / 3.0
        for i in range(6):
            s_trial[i] = stress[p, i] - (third if i < 3 else 0.0)
        if dt <= 0.0 or _von_mises_of_difference(s_trial, 1.0, backstress_old[p]) - r0[p] <= 0.0:
            continue
        dp, iterations = _solve_point(s_trial, backstress_old[p], shear[p], k[p], n[p], r0[p], c[p], d[p], dt, tolerance, max_iterations)
        if iterations < 0:
            return stress, tangent, plastic, backstress, cumulated, -1
        most = max(most, iterations)
        _flow_point(s_trial, backstress_old[p], shear[p], k[p], n[p], c[p], d[p], dt, dp, increment, backstress[p], correction, normal, p_x)
        cumulated[p] += dp
        for i in range(6):
            plastic[p, i] += increment[i]
            stress[p, i] -= 2.0 * shear[p] * increment[i]
            for j in range(6):
                tangent[p, i, j] -= correction[i, j]
    return stress, tangent, plastic, backstress, cumulated, most


@numba.njit(cache=True, error_model="numpy")
def _flow_point(s_trial, x_old, g, k, n, c, d, dt, dp, plastic, backstress, correction, normal, p_x):
    """At one flowing point: the plastic strain increment ``dp N``, the new backstress and the tangent correction
    (formulas in :meth:`ViscoplasticMaterial.update`), written into ``plastic``, ``backstress`` and ``correction``
    (``normal`` and ``p_x``: scratch of 6)."""
    theta = 1.0 / (1.0 + d * dp)
    j_star = _von_mises_of_difference(s_trial, theta, x_old)
    trace = 0.0
    for i in range(3):
        trace += s_trial[i] - theta * x_old[i]
    n_dot_x = 0.0
    for i in range(6):
        normal[i] = 1.5 * (s_trial[i] - theta * x_old[i] - (trace / 3.0 if i < 3 else 0.0)) / j_star
        n_dot_x += normal[i] * x_old[i]
        plastic[i] = dp * normal[i]
        backstress[i] = theta * (x_old[i] + (2.0 / 3.0) * c * plastic[i])
    rate_term = k / (n * dt) * (max(dp, 1e-300) / dt) ** (1.0 / n - 1.0) if dp > 0.0 else np.inf
    h = 3.0 * g + c * theta - c * d * theta**2 * dp - d * theta**2 * n_dot_x + rate_term
    # P X_old with P = I_dev - 2/3 N (x) N (N is deviatoric)
    x_trace = (x_old[0] + x_old[1] + x_old[2]) / 3.0
    for i in range(6):
        p_x[i] = x_old[i] - (x_trace if i < 3 else 0.0) - (2.0 / 3.0) * normal[i] * n_dot_x
    factor = 3.0 * g * dp / j_star
    coupling = 2.0 * g * d * theta**2 / h
    for i in range(6):
        for j in range(6):
            projector = (1.0 if i == j else 0.0) - (1.0 / 3.0 if (i < 3 and j < 3) else 0.0) - (2.0 / 3.0) * normal[i] * normal[j]
            correction[i, j] = (4.0 * g**2 / h) * normal[i] * normal[j] + factor * (2.0 * g * projector + coupling * p_x[i] * normal[j])


@numba.njit(cache=True, error_model="numpy")
def _von_mises_of_difference(s, theta, x):
    """``J2(s - theta x)`` for deviatoric Mandel 6-vectors ``s`` and ``x``."""
    trace = (s[0] - theta * x[0]) + (s[1] - theta * x[1]) + (s[2] - theta * x[2])
    total = 0.0
    for i in range(6):
        value = s[i] - theta * x[i] - (trace / 3.0 if i < 3 else 0.0)
        total += value * value
    return math.sqrt(1.5 * total)


@numba.njit(cache=True, error_model="numpy")
def _solve_point(s_trial, x_old, g, k, n, r0, c, d, dt, tolerance, max_iterations):
    """``g(dp) = 0`` at one flowing point by Newton's method on ``z = ln dp`` inside a shrinking bracket; returns
    ``(dp, iterations)``, iterations -1 on failure.

    In ``z`` the Norton term ``K exp(z/n) / dt^(1/n)`` is smooth (in ``dp`` its slope is infinite at 0) and ``g`` is
    concave and decreasing, so Newton's method started from the upper end of the bracket converges monotonically;
    bisection in ``z`` is the safeguard.
    """
    j_trial = _von_mises_of_difference(s_trial, 0.0, x_old)
    j_x = _von_mises_of_difference(x_old, 0.0, x_old)
    low = math.log(1e-300)
    high = math.log((j_trial + j_x) / (3.0 * g))
    z = high
    scale = j_trial + j_x + r0
    for iteration in range(1, max_iterations + 1):
        dp = math.exp(z)
        theta = 1.0 / (1.0 + d * dp)
        j_star = _von_mises_of_difference(s_trial, theta, x_old)
        rate = (dp / dt) ** (1.0 / n)
        residual = j_star - (3.0 * g + c * theta) * dp - r0 - k * rate
        if residual > 0.0:
            low = z
        else:
            high = z
        if abs(residual) <= tolerance * scale or high - low <= 1e-14:
            return dp, iteration
        # N : X_old with N = 3/2 xi* / J2(xi*)
        trace = 0.0
        for i in range(3):
            trace += s_trial[i] - theta * x_old[i]
        n_dot_x = 0.0
        for i in range(6):
            xi = s_trial[i] - theta * x_old[i] - (trace / 3.0 if i < 3 else 0.0)
            n_dot_x += 1.5 * xi / max(j_star, 1e-300) * x_old[i]
        slope = dp * (d * theta**2 * n_dot_x - 3.0 * g - c * theta + c * d * theta**2 * dp) - k * rate / n
        newton = z - residual / slope
        z = newton if low < newton < high and math.isfinite(newton) else 0.5 * (low + high)
    return 0.0, -1
