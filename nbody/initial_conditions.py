"""Initial conditions of classic three-body problems and random ensembles (G = 1, centre-of-mass frame)."""

from __future__ import annotations

import numpy as np

from nbody.state import System, centre_of_mass_frame

#: Period of the figure-eight choreography (Simó 2002).
FIGURE_EIGHT_PERIOD = 6.32591398
#: Energy of the figure-eight with unit masses.
FIGURE_EIGHT_ENERGY = -1.28714


def figure_eight() -> System:
    """The figure-eight choreography of three unit masses (Chenciner & Montgomery 2000, Simó's values).

    ``x1 = -x2 = (0.97000436, -0.24308753, 0)``, ``x3 = 0``, ``v3 = (-0.93240737, -0.86473146, 0)``,
    ``v1 = v2 = -v3 / 2``; period 6.32591398, energy -1.28714.
    """
    x1 = np.array([0.97000436, -0.24308753, 0.0])
    v3 = np.array([-0.93240737, -0.86473146, 0.0])
    positions = np.array([x1, -x1, np.zeros(3)])
    velocities = np.array([-v3 / 2.0, -v3 / 2.0, v3])
    return System(np.ones(3), positions, velocities)


def pythagorean() -> System:
    """Burrau's Pythagorean problem (Szebehely & Peters 1967, AJ 72, 876).

    Masses 3, 4, 5 at rest at (1, 3), (-2, -1), (1, -1): the vertices of a 3-4-5 right triangle, each
    mass opposite the side of its length. Body 0 (mass 3) escapes; 1 and 2 end as a tight binary.
    """
    positions = np.array([[1.0, 3.0, 0.0], [-2.0, -1.0, 0.0], [1.0, -1.0, 0.0]])
    return System(np.array([3.0, 4.0, 5.0]), positions, np.zeros((3, 3)))


def lagrange(masses: np.ndarray | None = None, side: float = 1.0, *, rotation_scale: float = 1.0) -> System:
    """Lagrange's equilateral solution: three bodies on an equilateral triangle in rigid rotation.

    Parameters
    ----------
    masses
        Three masses (default: equal unit masses).
    side
        Side length of the triangle.
    rotation_scale
        Factor on the circular angular velocity ``omega = sqrt(M / side^3)``; 1 gives the rigidly
        rotating (periodic, period ``2 pi / omega``) solution.
    """
    masses = np.ones(3) if masses is None else np.asarray(masses, dtype=float)
    angles = np.pi / 2.0 + np.array([0.0, 2.0, 4.0]) * np.pi / 3.0
    positions = side / np.sqrt(3.0) * np.column_stack([np.cos(angles), np.sin(angles), np.zeros(3)])
    centre = masses @ positions / masses.sum()
    positions = positions - centre
    omega = rotation_scale * np.sqrt(masses.sum() / side**3)
    velocities = omega * np.column_stack([-positions[:, 1], positions[:, 0], np.zeros(3)])
    return System(masses, positions, velocities)


def lagrange_period(masses: np.ndarray | None = None, side: float = 1.0) -> float:
    """Period of :func:`lagrange`'s rigid rotation."""
    total = 3.0 if masses is None else float(np.sum(masses))
    return float(2.0 * np.pi / np.sqrt(total / side**3))


def random_three_body(
    rng: np.random.Generator | int | None = None,
    *,
    masses: tuple[float, float] = (1.0, 1.0),
    virial_ratio: float = 0.5,
    planar: bool = False,
) -> System:
    """A random bound three-body system in the centre-of-mass frame.

    Masses are uniform in ``masses`` (equal by default), positions uniform in the unit ball (disk if
    ``planar``), velocities Gaussian, then scaled so that the virial ratio ``2 K / |W|`` equals
    ``virial_ratio`` (0 for a cold start, < 1 for a bound system).

    Parameters
    ----------
    rng
        Generator or seed; the same seed gives the same system.
    masses
        Range of the masses.
    virial_ratio
        ``2 K / |W|``, in [0, 2).
    planar
        Keep the motion in the x-y plane.
    """
    from nbody.forces import kinetic_energy, potential_energy

    if not 0.0 <= virial_ratio < 2.0:
        raise ValueError(f"virial_ratio must be in [0, 2), got {virial_ratio}")
    rng = np.random.default_rng(rng)
    m = rng.uniform(masses[0], masses[1], size=3) if masses[0] != masses[1] else np.full(3, float(masses[0]))
    while True:
        directions = rng.standard_normal((3, 3))
        if planar:
            directions[:, 2] = 0.0
        radii = rng.uniform(0.0, 1.0, size=3) ** (1.0 / (2.0 if planar else 3.0))
        x = directions / np.linalg.norm(directions, axis=1, keepdims=True) * radii[:, None]
        separations = np.linalg.norm(x[:, None] - x[None, :], axis=-1)[np.triu_indices(3, 1)]
        if separations.min() > 0.05:
            break
    v = rng.standard_normal((3, 3))
    if planar:
        v[:, 2] = 0.0
    system = centre_of_mass_frame(System(m, x, v))
    kinetic = kinetic_energy(system.masses, system.velocities)
    potential = potential_energy(system.masses, system.positions, 0.0)
    scale = np.sqrt(virial_ratio * abs(potential) / (2.0 * kinetic)) if kinetic > 0.0 else 0.0
    return System(system.masses, system.positions, system.velocities * scale)


def kepler_orbit(total_mass: float, semi_major_axis: float, eccentricity: float, true_anomaly: float) -> tuple[np.ndarray, np.ndarray]:
    """Relative position and velocity of a bound two-body orbit in its plane (pericentre on +x, motion counter-clockwise).

    ``r = p / (1 + e cos f)`` with ``p = a (1 - e^2)``; radial velocity ``sqrt(M/p) e sin f``, transverse
    ``sqrt(M/p) (1 + e cos f)``.
    """
    if not (semi_major_axis > 0.0 and 0.0 <= eccentricity < 1.0 and total_mass > 0.0):
        raise ValueError(f"a bound orbit needs a > 0, 0 <= e < 1 and M > 0, got a={semi_major_axis}, e={eccentricity}, M={total_mass}")
    p = semi_major_axis * (1.0 - eccentricity**2)
    radius = p / (1.0 + eccentricity * np.cos(true_anomaly))
    radial, transverse = np.sqrt(total_mass / p) * np.array(
        [eccentricity * np.sin(true_anomaly), 1.0 + eccentricity * np.cos(true_anomaly)]
    )
    direction = np.array([np.cos(true_anomaly), np.sin(true_anomaly), 0.0])
    normal = np.array([-np.sin(true_anomaly), np.cos(true_anomaly), 0.0])
    return radius * direction, radial * direction + transverse * normal


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A rotation matrix drawn uniformly (QR of a Gaussian matrix, signs fixed)."""
    q, r = np.linalg.qr(rng.standard_normal((3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def hierarchical_triple(
    rng: np.random.Generator | int | None = None,
    *,
    inner_axis: tuple[float, float] = (1.0, 2.0),
    outer_axis: tuple[float, float] = (15.0, 25.0),
    inner_eccentricity: float = 0.5,
    outer_eccentricity: float = 0.3,
) -> System:
    """A hierarchical triple of unit masses: a binary (semi-major axis uniform in ``inner_axis``, eccentricity
    uniform below ``inner_eccentricity``) and a third body on a wide orbit about its centre of mass (``outer_axis``,
    ``outer_eccentricity``), each orbit in a uniformly random orientation at a uniformly random true anomaly.

    The defaults keep the ratio of the semi-major axes above 7.5, beyond the Mardling & Aarseth (2001) stability
    limit (about 5.6 at outer eccentricity 0.3): long-lived triples whose inner orbit sets the time step.
    """
    rng = np.random.default_rng(rng)
    masses = np.ones(3)
    orbits = []
    for mass, axis, max_e in ((2.0, inner_axis, inner_eccentricity), (3.0, outer_axis, outer_eccentricity)):
        x, v = kepler_orbit(mass, rng.uniform(*axis), rng.uniform(0.0, max_e), rng.uniform(0.0, 2.0 * np.pi))
        rotation = _random_rotation(rng)
        orbits.append((rotation @ x, rotation @ v))
    (x_in, v_in), (x_out, v_out) = orbits
    positions = np.array([-0.5 * x_in, 0.5 * x_in, x_out])
    velocities = np.array([-0.5 * v_in, 0.5 * v_in, v_out])
    return centre_of_mass_frame(System(masses, positions, velocities))


#: Astronomical unit in metres (IAU 2012).
AU_M = 1.495978707e11
#: Gaussian gravitational constant: with lengths in au, masses in solar masses and G = 1, the time unit is 1/k days.
GAUSS_K = 0.01720209895
#: The N-body time unit (G = 1, 1 au, 1 solar mass) in seconds: about 58.13 days, 1/(2 pi) yr.
TIME_UNIT_S = 86400.0 / GAUSS_K
#: One julian year in N-body time units (about 2 pi).
YEAR = 365.25 * 86400.0 / TIME_UNIT_S
#: One km/s in N-body velocity units (about 1 / 29.78).
KM_PER_S = 1e3 * TIME_UNIT_S / AU_M


def saz_ulibarrena_2025(rng: np.random.Generator | int | None = None) -> System:
    """The planar equal-mass three-body ensemble of Saz Ulibarrena & Portegies Zwart (2025, arXiv 2502.12809).

    Three 1 solar-mass bodies (G = 1, lengths in au): body 0 at the origin moving at (0, 10) km/s, body 1
    at x in [5, 20], y in [0, 10] au moving at (-10, 0) km/s, body 2 at x in [-10, 0], y in [5, 20] au at
    rest; uniform draws, then the centre-of-mass frame.
    """
    rng = np.random.default_rng(rng)
    positions = np.zeros((3, 3))
    positions[1, :2] = rng.uniform([5.0, 0.0], [20.0, 10.0])
    positions[2, :2] = rng.uniform([-10.0, 5.0], [0.0, 20.0])
    velocities = np.zeros((3, 3))
    velocities[0, 1] = 10.0 * KM_PER_S
    velocities[1, 0] = -10.0 * KM_PER_S
    return centre_of_mass_frame(System(np.ones(3), positions, velocities))
