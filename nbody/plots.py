"""Pictures of a run: orbits in the x-y plane, relative energy error against time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from nbody.simulate import Run


def plot_orbits(run: Run, *, title: str = "", axis: Axes | None = None) -> Figure:
    """Trajectories in the x-y plane, one colour per body, start (circle) and end (cross) marked."""

    if axis is None:
        figure, axis = plt.subplots(figsize=(5.5, 5.5))
    else:
        figure = cast(Figure, axis.figure)
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


def plot_energy_error(runs: Sequence[Run], labels: Sequence[str] | None = None, *, axis: Axes | None = None) -> Figure:
    """Relative energy error against time (log scale), one curve per run; an early stop is a cross, a collision a star,
    the first snapshot past the run's energy-error threshold a triangle (named in the legend)."""

    if axis is None:
        figure, axis = plt.subplots(figsize=(6.5, 4))
    else:
        figure = cast(Figure, axis.figure)
    for index, run in enumerate(runs):
        label = labels[index] if labels else f"{run.integrator} ({run.parameter_name}={run.parameter:g})"
        floor = np.finfo(float).eps
        if run.status.failed:  # an early stop is marked where the curve ends, and named in the legend
            label += f" - stopped at t = {run.times[-1]:.4g}: {run.status.label}"
        if run.energy_exceeded_at is not None:
            label += f" - energy error past its threshold at t = {run.energy_exceeded_at:.4g}"
        (line,) = axis.semilogy(run.times, np.maximum(run.energy_error, floor), lw=0.9, label=label)
        if run.status.failed:
            axis.semilogy(run.times[-1:], np.maximum(run.energy_error[-1:], floor), "X", color=line.get_color(), ms=9)
        if run.energy_exceeded_at is not None:
            error = np.interp(run.energy_exceeded_at, run.times, np.nan_to_num(np.maximum(run.energy_error, floor), nan=1.0, posinf=1.0))
            axis.semilogy([run.energy_exceeded_at], [error], "v", color=line.get_color(), ms=9)
        for collision in run.collisions:  # a collision (a merger, or the stop) is a star on the curve
            error = np.interp(collision.time, run.times, np.maximum(run.energy_error, floor))
            axis.semilogy([collision.time], [error], "*", color=line.get_color(), ms=10)
    axis.set_xlabel("t")
    axis.set_ylabel(r"$|E(t) - E_0| / |E_0|$")
    axis.grid(True, which="major", alpha=0.3)
    axis.legend(fontsize="small")
    return figure
