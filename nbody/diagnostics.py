"""Conserved quantities, events (escape, close encounter) and the plots of a run."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from nbody._jit import jit
from nbody.forces import kinetic_energy, potential_energy

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from nbody.simulate import Run


def energy(masses: np.ndarray, positions: np.ndarray, velocities: np.ndarray, softening: float = 0.0) -> np.ndarray:
    """Total energy of one state ``(N, 3)`` or of a sequence of states ``(n_t, N, 3)``."""
    masses = np.asarray(masses, dtype=float)
    positions = np.asarray(positions, dtype=float)
    velocities = np.asarray(velocities, dtype=float)
    eps2 = float(softening) ** 2
    if positions.ndim == 2:
        return np.asarray(kinetic_energy(masses, velocities) + potential_energy(masses, positions, eps2))
    return np.array([kinetic_energy(masses, v) + potential_energy(masses, x, eps2) for x, v in zip(positions, velocities)])


def relative_energy_error(energies: np.ndarray, reference: float) -> np.ndarray:
    """``|E(t) - E0| / |E0|``."""
    return np.abs(np.asarray(energies) - reference) / abs(reference)


def angular_momentum(masses: np.ndarray, positions: np.ndarray, velocities: np.ndarray) -> np.ndarray:
    """Total angular momentum ``sum_i m_i x_i x v_i`` of one state (3,) or of each state (n_t, 3)."""
    return np.einsum("i,...ij->...j", np.asarray(masses, dtype=float), np.cross(positions, velocities))


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


@jit
def escaping_body(m: np.ndarray, x: np.ndarray, v: np.ndarray, radius: float) -> int:
    """Index of a body farther than ``radius`` from the centre of mass of the others and unbound from them, else -1.

    Unbound: positive energy of the two-body problem made of the body and the others lumped at their
    centre of mass.
    """
    n = m.shape[0]
    total = 0.0
    for i in range(n):
        total += m[i]
    for i in range(n):
        rest = total - m[i]
        cx = np.zeros(3)
        cv = np.zeros(3)
        for j in range(n):
            if j != i:
                for k in range(3):
                    cx[k] += m[j] * x[j, k] / rest
                    cv[k] += m[j] * v[j, k] / rest
        d2 = 0.0
        u2 = 0.0
        for k in range(3):
            d2 += (x[i, k] - cx[k]) ** 2
            u2 += (v[i, k] - cv[k]) ** 2
        distance = math.sqrt(d2)
        if distance > radius:
            reduced = m[i] * rest / total
            if 0.5 * reduced * u2 - m[i] * rest / distance > 0.0:
                return i
    return -1


@jit
def closest_pair(x: np.ndarray) -> tuple[float, int, int]:
    """``(distance, i, j)`` of the closest pair of bodies."""
    n = x.shape[0]
    best = np.inf
    bi = -1
    bj = -1
    for i in range(n):
        for j in range(i + 1, n):
            d = math.sqrt((x[j, 0] - x[i, 0]) ** 2 + (x[j, 1] - x[i, 1]) ** 2 + (x[j, 2] - x[i, 2]) ** 2)
            if d < best:
                best = d
                bi = i
                bj = j
    return best, bi, bj


def plot_orbits(run: Run, *, title: str = "", axis=None) -> Figure:
    """Trajectories in the x-y plane, one colour per body, start (circle) and end (cross) marked."""
    import matplotlib.pyplot as plt

    figure, axis = (axis.figure, axis) if axis is not None else plt.subplots(figsize=(5.5, 5.5))
    for body in range(run.positions.shape[1]):
        line = axis.plot(run.positions[:, body, 0], run.positions[:, body, 1], lw=0.8, label=f"body {body} (m={run.masses[body]:g})")[0]
        axis.plot(*run.positions[0, body, :2], "o", color=line.get_color())
        axis.plot(*run.positions[-1, body, :2], "x", color=line.get_color())
    axis.set_aspect("equal", adjustable="datalim")
    axis.set_xlabel("x")
    axis.set_ylabel("y")
    axis.set_title(title or f"{run.integrator}, t = 0 .. {run.times[-1]:.4g}")
    axis.legend(loc="best", fontsize="small")
    return figure


def plot_energy_error(runs: Sequence[Run], labels: Sequence[str] | None = None, *, axis=None) -> Figure:
    """Relative energy error against time (log scale), one curve per run."""
    import matplotlib.pyplot as plt

    figure, axis = (axis.figure, axis) if axis is not None else plt.subplots(figsize=(6.5, 4))
    for index, run in enumerate(runs):
        label = labels[index] if labels else f"{run.integrator} ({run.parameter_name}={run.parameter:g})"
        floor = np.finfo(float).eps
        axis.semilogy(run.times, np.maximum(run.energy_error, floor), lw=0.9, label=label)
    axis.set_xlabel("t")
    axis.set_ylabel(r"$|E(t) - E_0| / |E_0|$")
    axis.grid(True, which="major", alpha=0.3)
    axis.legend(fontsize="small")
    return figure
