"""Particle state of a few-body system in N-body units (G = 1)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nbody.errors import ArgumentError

G = 1.0


@dataclass
class System:
    """Masses, positions and velocities of N bodies (G = 1), with optional Plummer softening.

    Parameters
    ----------
    masses
        ``(N,)`` positive masses.
    positions
        ``(N, 3)`` positions.
    velocities
        ``(N, 3)`` velocities.
    softening
        Plummer softening length (0 for point masses).

    Raises
    ------
    ArgumentError
        On wrong shapes, non-finite values, non-positive masses, coincident bodies or a negative
        softening; the error names the offending argument.
    """

    masses: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray
    softening: float = 0.0

    def __post_init__(self) -> None:
        self.masses = _as_float_array(self.masses, "masses")
        self.positions = _as_float_array(self.positions, "positions")
        self.velocities = _as_float_array(self.velocities, "velocities")
        n = self.masses.shape[0] if self.masses.ndim == 1 else -1
        if n < 2:
            raise ArgumentError(f"must be a list of at least 2 masses, got shape {self.masses.shape}", ("masses",))
        for name, array in (("positions", self.positions), ("velocities", self.velocities)):
            if array.shape != (n, 3):
                raise ArgumentError(f"must have shape ({n}, 3) to match {n} masses, got {array.shape}", (name,))
        for name, array in (("masses", self.masses), ("positions", self.positions), ("velocities", self.velocities)):
            bad = np.argwhere(~np.isfinite(array))
            if bad.size:
                raise ArgumentError(f"must be finite, got {array[tuple(bad[0])]}", (name, *map(int, bad[0])))
        nonpositive = np.flatnonzero(self.masses <= 0.0)
        if nonpositive.size:
            raise ArgumentError(f"must be positive, got {self.masses[nonpositive[0]]}", ("masses", int(nonpositive[0])))
        if not (np.isfinite(self.softening) and self.softening >= 0.0):
            raise ArgumentError(f"must be a finite number >= 0, got {self.softening}", ("softening",))
        self.softening = float(self.softening)
        separations = np.linalg.norm(self.positions[:, None, :] - self.positions[None, :, :], axis=-1)
        i, j = np.triu_indices(n, 1)
        coincident = np.flatnonzero(separations[i, j] == 0.0)
        if coincident.size and self.softening == 0.0:
            a, b = int(i[coincident[0]]), int(j[coincident[0]])
            raise ArgumentError(f"bodies {a} and {b} are at the same place (infinite force without softening)", ("positions",))

    @property
    def n_bodies(self) -> int:
        """Number of bodies N."""
        return int(self.masses.shape[0])

    @property
    def total_mass(self) -> float:
        """Sum of the masses."""
        return float(self.masses.sum())

    def centre_of_mass(self) -> tuple[np.ndarray, np.ndarray]:
        """Position and velocity of the centre of mass."""
        weights = self.masses / self.total_mass
        return weights @ self.positions, weights @ self.velocities

    def copy(self) -> System:
        """A deep copy."""
        return System(self.masses.copy(), self.positions.copy(), self.velocities.copy(), self.softening)


def centre_of_mass_frame(system: System) -> System:
    """The same system moved to the frame where the centre of mass is at rest at the origin."""
    position, velocity = system.centre_of_mass()
    return System(system.masses.copy(), system.positions - position, system.velocities - velocity, system.softening)


def _as_float_array(value: object, name: str) -> np.ndarray:
    try:
        return np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ArgumentError("must be an array of numbers", (name,)) from None
