"""Many independent systems integrated to one time in parallel: :func:`integrate_batch`.

The systems run in one call of the batch engine (:class:`~nbody.batch_engine.BatchEngine`, a menu of one stepper):
sixteen at a time in lock step in a batch of at least :data:`LOCK_STEP_SYSTEMS` (every integrator has lane steps),
else (and when the bodies have radii) each in the compiled time loop (:func:`nbody.time_loop.advance`), over all
threads. Each system's result is bit
for bit that of :func:`~nbody.simulate.integrate` on it alone; the systems share the integrator, its settings, the
events and the radii.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass

import numpy as np

from nbody.batch_engine import BatchEngine
from nbody.collisions import check_radii
from nbody.diagnostics import energy
from nbody.errors import ArgumentError
from nbody.integrators.settings import IntegratorSettings, as_settings
from nbody.lanes import LANES
from nbody.lockstep import MIN_ACTIVE
from nbody.simulate import check_end_time
from nbody.state import System
from nbody.time_loop import loop_radii

#: The fewest systems of a batch run in lock step: on fewer, every system runs alone in the time loop, and the first
#: call compiles no lane steps (eight figure-eights, a cold first call: 42 s of CPU with them for Hermite, 45 for
#: IAS15, 25 and 30 without; 2026-12-08).
LOCK_STEP_SYSTEMS = 2 * LANES


@dataclass
class BatchResult:
    """Final states and diagnostics of :func:`integrate_batch` (one row per system; ``status`` holds the
    :class:`~nbody.time_loop.Status` codes)."""

    positions: np.ndarray
    velocities: np.ndarray
    times: np.ndarray
    energy_error: np.ndarray
    n_steps: np.ndarray
    n_force_evals: np.ndarray
    status: np.ndarray
    event_body: np.ndarray
    wall_time: float


def integrate_batch(
    masses: np.ndarray,
    positions: np.ndarray,
    velocities: np.ndarray,
    t_end: float,
    integrator: str | IntegratorSettings = "hermite",
    *,
    escape_radius: float = 0.0,
    close_encounter: float = 0.0,
    radii: np.ndarray | list[float] | None = None,
    max_steps: int = 100_000_000,
    softening: float = 0.0,
    **parameters: float | str | None,
) -> BatchResult:
    """Integrate many independent systems to ``t_end`` in parallel (one call of the batch engine).

    Parameters
    ----------
    masses
        ``(B, N)`` masses, or ``(N,)`` shared by every system.
    positions, velocities
        ``(B, N, 3)`` initial states.
    t_end, integrator, escape_radius, close_encounter, max_steps, softening, parameters
        As in :func:`~nbody.simulate.integrate` (``escape_radius`` and ``close_encounter`` of 0 disable the events).
    radii
        ``(N,)`` radii of the bodies, shared by every system: a collision stops that system (status
        :attr:`~nbody.time_loop.Status.COLLISION`, the pair ``i * N + j`` in ``event_body``).

    Returns
    -------
    BatchResult
        Final states, times reached, relative energy errors, steps, force evaluations and status codes
        (:class:`~nbody.time_loop.Status`).
    """
    positions = np.asarray(positions, dtype=np.float64)
    velocities = np.asarray(velocities, dtype=np.float64)
    if positions.ndim != 3 or positions.shape[2] != 3 or velocities.shape != positions.shape:
        raise ArgumentError(
            f"positions and velocities must have the same shape (B, N, 3), got {positions.shape} and {velocities.shape}",
            ("positions",),
        )
    n_systems, n = positions.shape[:2]
    masses = np.ascontiguousarray(np.broadcast_to(np.asarray(masses, dtype=np.float64), (n_systems, n)))
    for index in range(n_systems):  # validates every system with the same messages as a single run
        System(masses[index], positions[index], velocities[index], softening)
    check_end_time(t_end)
    stepper = as_settings(integrator, **parameters).stepper()
    radii = check_radii(radii, n)
    eps2 = float(softening) ** 2
    initial_energy = np.array([energy(masses[s], positions[s], velocities[s], softening) for s in range(n_systems)])
    started = _time.perf_counter()
    # a batch too small to fill two sets of lanes is not worth the lane steps' compilation
    engine = BatchEngine([stepper], n_systems, n, MIN_ACTIVE if n_systems >= LOCK_STEP_SYSTEMS else LANES + 1)
    engine.masses[:], engine.positions[:], engine.velocities[:], engine.eps2[:] = masses, positions, velocities, eps2
    everyone = np.arange(n_systems)
    engine.advance(
        everyone, np.zeros(n_systems, dtype=np.int64), np.full(n_systems, stepper.parameter), np.full(n_systems, float(t_end)),
        np.ones(n_systems, dtype=bool), max_steps, escape_radius, close_encounter, loop_radii(radii),
    )  # fmt: skip
    wall = _time.perf_counter() - started
    return BatchResult(
        positions=engine.positions,
        velocities=engine.velocities,
        times=engine.t,
        energy_error=np.abs(engine.energy - initial_energy) / np.abs(initial_energy),  # (the engine's: the same sums)
        n_steps=engine.n_steps,
        n_force_evals=engine.n_force_evals,
        status=engine.status,
        event_body=engine.event_body,
        wall_time=wall,
    )
