"""Collisions of bodies with radii: what happened (:class:`Collision`) and the momentum-conserving merger.

It imports nothing compiled at module level (the case schema takes :data:`OnCollision` from here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from nbody.errors import ArgumentError

#: What a collision does: end the integration, or merge the two bodies into one.
OnCollision = Literal["stop", "merge"]


@dataclass(frozen=True)
class Collision:
    """Two bodies that touched.

    Attributes
    ----------
    time
        When the bodies touched: located by bisection inside the step in which they came within their radii
        or passed a pericentre inside them (:data:`nbody.time_loop.CONTACT_PRECISION`).
    bodies
        The pair, as indices into the initial system.
    merged
        Whether they were merged (into the first of the pair); else the integration stopped.
    energy_change, angular_momentum_change
        Change of the total energy and angular momentum vector by the merger (the pair's internal energy
        and spin leave the point-mass system); zero when not merged.
    """

    time: float
    bodies: tuple[int, int]
    merged: bool
    energy_change: float = 0.0
    angular_momentum_change: tuple[float, float, float] = (0.0, 0.0, 0.0)


def check_radii(radii: object, n_bodies: int) -> np.ndarray:
    """Radii as a float array of one finite value >= 0 per body (an empty array: no collisions).

    Raises
    ------
    ArgumentError
        For the wrong number of radii or a negative or non-finite one.
    """
    if radii is None:
        return np.empty(0)
    values = np.asarray(radii, dtype=float).reshape(-1)
    if values.size != n_bodies:
        raise ArgumentError(f"give one radius per body: {values.size} for {n_bodies} bodies", ("radii",))
    if not np.all(np.isfinite(values)) or np.any(values < 0.0):
        raise ArgumentError(f"radii must be finite numbers >= 0, got {values.tolist()}", ("radii",))
    return values


def merge(
    masses: np.ndarray, x: np.ndarray, v: np.ndarray, radii: np.ndarray, i: int, j: int, softening: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, np.ndarray]:
    """Replace bodies ``i < j`` by one body at their centre of mass with their momentum, in row ``i``.

    The merged radius keeps the volume, ``(r_i^3 + r_j^3)^(1/3)``.

    Returns
    -------
    masses, x, v, radii, energy_change, angular_momentum_change
        The arrays without row ``j``, and the changes of the total energy and angular momentum.
    """
    from nbody.diagnostics import angular_momentum, energy

    before_energy = float(energy(masses, x, v, softening))
    before_momentum = angular_momentum(masses, x, v)
    total = masses[i] + masses[j]
    x, v, masses, radii = x.copy(), v.copy(), masses.copy(), radii.copy()
    x[i] = (masses[i] * x[i] + masses[j] * x[j]) / total
    v[i] = (masses[i] * v[i] + masses[j] * v[j]) / total
    masses[i] = total
    radii[i] = float(np.cbrt(radii[i] ** 3 + radii[j] ** 3))
    keep = np.arange(masses.shape[0]) != j
    masses, x, v, radii = masses[keep], np.ascontiguousarray(x[keep]), np.ascontiguousarray(v[keep]), radii[keep]
    energy_change = float(energy(masses, x, v, softening)) - before_energy
    return masses, x, v, radii, energy_change, angular_momentum(masses, x, v) - before_momentum
