"""``integrate_batch`` on the batch engine: every system bit for bit the single run, events included (in lock step
for the integrators with a lane step, alone for ``rk`` and with radii)."""

import warnings

import numpy as np
import pytest

from nbody import initial_conditions as ic
from nbody import simulate
from nbody.batch import integrate_batch
from nbody.time_loop import Status

SYSTEMS = [ic.random_three_body(seed, virial_ratio=0.5) for seed in range(40)]
MASSES = np.array([s.masses for s in SYSTEMS])
POSITIONS = np.array([s.positions for s in SYSTEMS])
VELOCITIES = np.array([s.velocities for s in SYSTEMS])


@pytest.mark.parametrize(
    "integrator, parameters",
    [("hermite", {"eta": 0.02}), ("leapfrog", {"dt": 2e-3}), ("ias15", {"tol": 1e-9}), ("archain", {"tol": 1e-10}), ("rk", {"tol": 1e-8})],
)
def test_a_batch_with_escapes_and_close_encounters_is_each_single_run(integrator, parameters):
    """40 random three-body systems to t = 20, stopping at an escape past 3 or a pair closer than 0.02, at most 20,000
    steps: the same final states, times, steps, force evaluations, statuses and event bodies as ``integrate`` on each,
    with every kind of ending among them (so the events are checked in the lanes, not only the arrivals)."""
    batch = integrate_batch(
        MASSES, POSITIONS, VELOCITIES, 20.0, integrator, escape_radius=3.0, close_encounter=0.02, max_steps=20_000, **parameters
    )
    endings = set()
    for index, system in enumerate(SYSTEMS):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the energy warnings of the single runs
            single = simulate.integrate(
                system, 20.0, integrator, stop_on_escape=True, escape_radius=3.0, close_encounter=0.02, max_steps=20_000, **parameters
            )
        status = Status(int(batch.status[index]))
        endings.add(status)
        assert status == single.status, index
        np.testing.assert_array_equal(batch.positions[index], single.positions[-1])
        np.testing.assert_array_equal(batch.velocities[index], single.velocities[-1])
        assert batch.times[index] == single.times[-1]
        assert (batch.n_steps[index], batch.n_force_evals[index]) == (single.n_steps, single.n_force_evals)
        if status == Status.ESCAPE:
            assert batch.event_body[index] == single.escaped
        elif status == Status.CLOSE_ENCOUNTER:
            assert single.close_encounter is not None
            assert divmod(int(batch.event_body[index]), 3) == single.close_encounter
        else:
            assert batch.event_body[index] == -1
    assert {Status.ESCAPE, Status.CLOSE_ENCOUNTER, Status.COMPLETED} <= endings, endings
