"""Many independent systems integrated to one time in parallel (``numba.prange`` over the systems): :func:`integrate_batch`.

Each system runs the compiled time loop (:func:`nbody.time_loop.advance`) of the integrator's step function from its own
start to ``t_end``; the systems share the integrator, its settings, the events and the radii.
"""

from __future__ import annotations

import functools
import time as _time
from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np
from numba import prange

from nbody._jit import parallel_jit, take_next
from nbody.collisions import check_radii
from nbody.diagnostics import energy
from nbody.errors import ArgumentError
from nbody.integrators.dispatch import init
from nbody.integrators.settings import IntegratorSettings, as_settings
from nbody.simulate import check_end_time
from nbody.state import System
from nbody.time_loop import advance, loop_radii


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


@functools.cache
def _batch_kernel(code: int, module_code: int) -> Callable[..., tuple[np.ndarray, ...]]:
    """The batch loop compiled for step function ``code`` of integrator ``module_code`` (constants of the closure)."""

    @parallel_jit
    def run_batch(masses, X, V, eps2, param, t_end, max_steps, escape_radius, close_distance, radii, work_length, n_threads):
        n_systems = X.shape[0]
        times = np.zeros(n_systems)
        steps = np.zeros(n_systems, dtype=np.int64)
        evals = np.zeros(n_systems, dtype=np.int64)
        status = np.zeros(n_systems, dtype=np.int64)
        bodies = np.zeros(n_systems, dtype=np.int64)
        counter = np.zeros(1, dtype=np.int64)
        for _worker in prange(n_threads):
            while True:
                s = take_next(counter)  # the next system, to whichever thread is free
                if s >= n_systems:
                    break
                x = X[s]
                v = V[s]
                m = masses[s]
                work = np.zeros(work_length)
                first = init(module_code, x, v, m, eps2, work)
                t, ns, ne, st, body, _ = advance(
                    code, x, v, m, eps2, param, work, 0.0, t_end, max_steps, escape_radius, close_distance, radii,
                    np.empty(0), np.empty((0, 1, 3)), np.empty((0, 1, 3)), 0,
                )  # fmt: skip
                times[s] = t
                steps[s] = ns
                evals[s] = ne + first
                status[s] = st
                bodies[s] = body
        return times, steps, evals, status, bodies

    return run_batch


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
    """Integrate many independent systems to ``t_end`` in parallel (one system per thread at a time).

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
    positions = np.ascontiguousarray(positions, dtype=np.float64).copy()
    velocities = np.ascontiguousarray(velocities, dtype=np.float64).copy()
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
    times, steps, evals, status, bodies = _batch_kernel(stepper.code, stepper.module_code)(
        masses, positions, velocities, eps2, stepper.parameter, float(t_end),
        max_steps, float(escape_radius), float(close_encounter), loop_radii(radii), stepper.work_size(n),
        numba.get_num_threads(),
    )  # fmt: skip
    wall = _time.perf_counter() - started
    final_energy = np.array([energy(masses[s], positions[s], velocities[s], softening) for s in range(n_systems)])
    return BatchResult(
        positions=positions,
        velocities=velocities,
        times=times,
        energy_error=np.abs(final_energy - initial_energy) / np.abs(initial_energy),
        n_steps=steps,
        n_force_evals=evals,
        status=status,
        event_body=bodies,
        wall_time=wall,
    )
