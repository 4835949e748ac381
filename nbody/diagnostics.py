"""Conserved quantities of a state or of a run: energy, momenta, the two-body energy of a pair."""

from __future__ import annotations

from typing import Any

import numpy as np

from nbody.forces import kinetic_energy, potential_energy


def energy(masses: np.ndarray, positions: np.ndarray, velocities: np.ndarray, softening: float = 0.0) -> np.ndarray:
    """Total energy of one state ``(N, 3)`` or of a sequence of states ``(n_t, N, 3)``."""
    masses = np.asarray(masses, dtype=float)
    positions = np.asarray(positions, dtype=float)
    velocities = np.asarray(velocities, dtype=float)
    eps2 = float(softening) ** 2
    if positions.ndim == 2:
        return np.asarray(kinetic_energy(masses, velocities) + potential_energy(masses, positions, eps2))
    return np.array([kinetic_energy(masses, v) + potential_energy(masses, x, eps2) for x, v in zip(positions, velocities, strict=True)])


def relative_energy_error(energies: np.ndarray, reference: float) -> np.ndarray:
    """``|E(t) - E0| / |E0|``."""
    return np.abs(np.asarray(energies) - reference) / abs(reference)


def angular_momentum(masses: np.ndarray, positions: np.ndarray, velocities: np.ndarray) -> np.ndarray:
    """Total angular momentum ``sum_i m_i x_i x v_i`` of one state (3,) or of each state (n_t, 3).

    The cross products as ``np.cross`` computes them (``x1 v2 - x2 v1``, ...), without its axis handling (~50 us a
    call, a third of :func:`~nbody.simulate.integrate`'s fixed cost)."""
    x, v = np.asarray(positions, dtype=float), np.asarray(velocities, dtype=float)
    ahead, behind = [1, 2, 0], [2, 0, 1]
    cross = np.ascontiguousarray(x[..., ahead] * v[..., behind] - x[..., behind] * v[..., ahead])  # einsum sums as for np.cross's
    return np.einsum("i,...ij->...j", np.asarray(masses, dtype=float), cross)


def linear_momentum(masses: np.ndarray, velocities: np.ndarray) -> np.ndarray:
    """Total momentum ``sum_i m_i v_i`` of one state (3,) or of each state (n_t, 3)."""
    return np.einsum("i,...ij->...j", np.asarray(masses, dtype=float), velocities)


def pair_energy(masses: np.ndarray, positions: np.ndarray, velocities: np.ndarray, i: int, j: int) -> float:
    """Two-body energy of bodies ``i`` and ``j`` in their own centre-of-mass frame (negative: bound)."""
    mi, mj = float(masses[i]), float(masses[j])
    reduced = mi * mj / (mi + mj)
    dv = np.asarray(velocities[i]) - np.asarray(velocities[j])
    dx = np.asarray(positions[i]) - np.asarray(positions[j])
    return 0.5 * reduced * float(dv @ dv) - mi * mj / float(np.linalg.norm(dx))


def interval_extremes(simulation: Any, interval: float, intervals: int) -> tuple[float, float]:
    """Advance a :class:`~nbody.simulate.Simulation` by ``intervals`` intervals (as the RL environment does); returns
    the closest approach of any pair seen at any step and the largest relative energy error at an interval's end."""
    closest, worst = np.inf, 0.0
    start = simulation.t
    for k in range(1, intervals + 1):
        _, positions, _ = simulation.advance(start + k * interval, record=True)
        if len(positions):
            gaps = np.linalg.norm(positions[:, :, None] - positions[:, None, :], axis=-1)
            rows, cols = np.triu_indices(positions.shape[1], 1)
            closest = min(closest, float(np.nanmin(gaps[:, rows, cols])))
        worst = max(worst, simulation.energy_error())
    return closest, worst
