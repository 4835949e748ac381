"""Small-strain constitutive laws with temperature-dependent coefficients, vectorised over integration points.

:class:`ElasticMaterial` is isotropic thermo-elasticity. :class:`ViscoplasticMaterial` adds a von Mises
viscoplastic flow with a threshold (Norton law ``pdot = <(J2(s - X) - R0) / K>^n``) and Armstrong-Frederick
kinematic hardening (``Xdot = 2/3 C epsdot_p - D X pdot``), integrated by backward Euler: the update
reduces to one scalar equation in the increment of cumulated plasticity ``dp`` per point, solved by a
bracketed Newton method, and the consistent tangent follows in closed form (derivation in the
docstring of :meth:`ViscoplasticMaterial.update`). See docs/methods.md.
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
        stiffness, flow = coefficients.stiffness, coefficients.flow
        trial_elastic = strain - coefficients.thermal_strain - state.plastic_strain
        trial_stress = np.einsum("nij,nj->ni", stiffness, trial_elastic)
        trial_deviator = deviator(trial_stress)
        threshold = flow["yield_stress"]
        trial_overstress = von_mises(trial_deviator - state.backstress) - threshold
        flowing = np.flatnonzero(trial_overstress > 0.0)
        new_state = state.copy()
        tangent = stiffness.copy()
        stress = trial_stress.copy()
        if flowing.size == 0 or dt <= 0.0:
            return ConstitutiveResult(stress, tangent, new_state)

        g = coefficients.shear[flowing]
        k, n, r0 = flow["norton_k"][flowing], flow["norton_n"][flowing], threshold[flowing]
        c, d = flow["hardening_c"][flowing], flow["hardening_d"][flowing]
        s_trial, x_old = trial_deviator[flowing], state.backstress[flowing]
        dp, iterations = _solve_increment(s_trial, x_old, g, k, n, r0, c, d, dt)

        plastic_increment, backstress, correction = _flow(s_trial, x_old, g, k, n, c, d, float(dt), dp)
        new_state.plastic_strain[flowing] += plastic_increment
        new_state.backstress[flowing] = backstress
        new_state.cumulated_plasticity[flowing] += dp
        stress[flowing] -= 2.0 * g[:, None] * plastic_increment
        tangent[flowing] -= correction
        return ConstitutiveResult(stress, tangent, new_state, iterations)


def _solve_increment(s_trial, x_old, g, k, n, r0, c, d, dt):
    """Solve ``g(dp) = 0`` at every flowing point by Newton's method on ``z = ln dp`` inside a shrinking bracket.

    In ``z`` the Norton term ``K exp(z/n) / dt^(1/n)`` is smooth (in ``dp`` its slope is infinite at 0) and
    ``g`` is concave and decreasing, so Newton's method started from the upper end of the bracket
    converges monotonically; bisection in ``z`` is the safeguard. Compiled point by point (Numba).
    """
    dp, iterations = _solve_points(s_trial, x_old, g, k, n, r0, c, d, float(dt), LOCAL_TOLERANCE, LOCAL_MAX_ITERATIONS)
    if iterations < 0:
        raise LocalConvergenceError(f"constitutive update did not converge in {LOCAL_MAX_ITERATIONS} iterations")
    return dp, iterations


@numba.njit(cache=True, error_model="numpy")
def _flow(s_trial, x_old, g, k, n, c, d, dt, dp):
    """Plastic strain increment ``dp N``, new backstress and the tangent correction (formulas in ``update``)."""
    count = g.shape[0]
    plastic = np.empty((count, 6))
    backstress = np.empty((count, 6))
    correction = np.empty((count, 6, 6))
    normal = np.empty(6)
    p_x = np.empty(6)
    for p in range(count):
        theta = 1.0 / (1.0 + d[p] * dp[p])
        j_star = _von_mises_of_difference(s_trial[p], theta, x_old[p])
        trace = 0.0
        for i in range(3):
            trace += s_trial[p, i] - theta * x_old[p, i]
        n_dot_x = 0.0
        for i in range(6):
            normal[i] = 1.5 * (s_trial[p, i] - theta * x_old[p, i] - (trace / 3.0 if i < 3 else 0.0)) / j_star
            n_dot_x += normal[i] * x_old[p, i]
            plastic[p, i] = dp[p] * normal[i]
            backstress[p, i] = theta * (x_old[p, i] + (2.0 / 3.0) * c[p] * plastic[p, i])
        rate_term = k[p] / (n[p] * dt) * (max(dp[p], 1e-300) / dt) ** (1.0 / n[p] - 1.0) if dp[p] > 0.0 else np.inf
        h = 3.0 * g[p] + c[p] * theta - c[p] * d[p] * theta**2 * dp[p] - d[p] * theta**2 * n_dot_x + rate_term
        # P X_old with P = I_dev - 2/3 N (x) N (N is deviatoric)
        x_trace = (x_old[p, 0] + x_old[p, 1] + x_old[p, 2]) / 3.0
        for i in range(6):
            p_x[i] = x_old[p, i] - (x_trace if i < 3 else 0.0) - (2.0 / 3.0) * normal[i] * n_dot_x
        factor = 3.0 * g[p] * dp[p] / j_star
        coupling = 2.0 * g[p] * d[p] * theta**2 / h
        for i in range(6):
            for j in range(6):
                projector = (1.0 if i == j else 0.0) - (1.0 / 3.0 if (i < 3 and j < 3) else 0.0) - (2.0 / 3.0) * normal[i] * normal[j]
                correction[p, i, j] = (4.0 * g[p] ** 2 / h) * normal[i] * normal[j] + factor * (
                    2.0 * g[p] * projector + coupling * p_x[i] * normal[j]
                )
    return plastic, backstress, correction


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
def _solve_points(s_trial, x_old, g, k, n, r0, c, d, dt, tolerance, max_iterations):
    """The scalar equation at each point; returns ``(dp, most iterations)``, iterations -1 on failure."""
    count = g.shape[0]
    dp_out = np.empty(count)
    most = 0
    for p in range(count):
        j_trial = _von_mises_of_difference(s_trial[p], 0.0, x_old[p])
        j_x = _von_mises_of_difference(x_old[p], 0.0, x_old[p])
        low = math.log(1e-300)
        high = math.log((j_trial + j_x) / (3.0 * g[p]))
        z = high
        scale = j_trial + j_x + r0[p]
        done = False
        for iteration in range(1, max_iterations + 1):
            dp = math.exp(z)
            theta = 1.0 / (1.0 + d[p] * dp)
            j_star = _von_mises_of_difference(s_trial[p], theta, x_old[p])
            rate = (dp / dt) ** (1.0 / n[p])
            residual = j_star - (3.0 * g[p] + c[p] * theta) * dp - r0[p] - k[p] * rate
            if residual > 0.0:
                low = z
            else:
                high = z
            if abs(residual) <= tolerance * scale or high - low <= 1e-14:
                dp_out[p] = dp
                most = max(most, iteration)
                done = True
                break
            # N : X_old with N = 3/2 xi* / J2(xi*)
            trace = 0.0
            for i in range(3):
                trace += s_trial[p, i] - theta * x_old[p, i]
            n_dot_x = 0.0
            for i in range(6):
                xi = s_trial[p, i] - theta * x_old[p, i] - (trace / 3.0 if i < 3 else 0.0)
                n_dot_x += 1.5 * xi / max(j_star, 1e-300) * x_old[p, i]
            slope = dp * (d[p] * theta**2 * n_dot_x - 3.0 * g[p] - c[p] * theta + c[p] * d[p] * theta**2 * dp) - k[p] * rate / n[p]
            newton = z - residual / slope
            z = newton if low < newton < high and math.isfinite(newton) else 0.5 * (low + high)
        if not done:
            return dp_out, -1
    return dp_out, most
