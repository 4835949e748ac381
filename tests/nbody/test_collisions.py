"""Collisions of bodies with radii: detected at the closed-form time, stopped or merged conserving momentum."""

import numpy as np
import pytest
from scipy.optimize import brentq

from nbody import simulate
from nbody.batch import integrate_batch
from nbody.diagnostics import linear_momentum, pair_energy
from nbody.errors import ArgumentError
from nbody.state import System


def infall_time(r, r0, total_mass):
    """Time for two bodies released at rest ``r0`` apart to come within ``r`` of each other."""
    psi = brentq(lambda p: r0 * (1.0 + np.cos(p)) / 2.0 - r, 0.0, np.pi)
    return np.sqrt(r0**3 / (8.0 * total_mass)) * (psi + np.sin(psi))


def two_at_rest(r0=1.0):
    return System(np.array([1.0, 3.0]), np.array([[0.0, 0.0, 0.0], [r0, 0.0, 0.0]]), np.zeros((2, 3)))


@pytest.mark.parametrize("integrator", ["archain", "ias15", "hermite"])
def test_radial_infall_stops_at_the_closed_form_contact_time(integrator):
    """The Cartesian integrators stopped with a step underflow before the collision; with radii it is an event."""
    run = simulate.integrate(two_at_rest(), 1.0, integrator, radii=[0.04, 0.06], record_times=[])
    contact = infall_time(0.1, 1.0, 4.0)
    assert run.status is simulate.Status.COLLISION and not run.status.failed
    assert run.collisions == [simulate.Collision(run.times[-1], (0, 1), False)]
    separation = run.positions[-1, 1, 0] - run.positions[-1, 0, 0]
    assert 0.09 < separation < 0.1 and contact <= run.times[-1] < contact * 1.01


def test_a_step_over_a_grazing_collision_does_not_miss_it():
    """A flyby with its pericentre (0.01) inside the radii, stepped over by a fixed leapfrog step."""
    system = System(np.array([1.0, 1.0]), np.array([[-5.0, 0.0, 0.0], [5.0, 0.01, 0.0]]), np.array([[2.0, 0, 0], [-2.0, 0, 0]]))
    with pytest.warns(simulate.EnergyErrorWarning, match="fixed step"):  # the coarse step wrecks the energy: said
        free = simulate.integrate(system, 5.0, "leapfrog", dt=0.25, record_times="steps")
    gaps = np.linalg.norm(free.positions[:, 1] - free.positions[:, 0], axis=1)
    assert gaps.min() > 0.1  # no step ends near the pericentre
    with pytest.warns(simulate.EnergyErrorWarning):
        run = simulate.integrate(system, 5.0, "leapfrog", dt=0.25, radii=[0.01, 0.01], record_times=[])
    assert run.status is simulate.Status.COLLISION and 2.0 < run.times[-1] < 3.0


def test_merging_head_on_three_bodies_conserves_momentum_and_ends_in_one_body_at_the_centre_of_mass():
    """Three bodies released at rest on a line (the exact collisions no point-mass integrator gets through):
    two mergers, then one body of mass 6 at rest at the centre of mass."""
    masses = np.array([1.0, 2.0, 3.0])
    start = System(masses, np.array([[-1.0, 0, 0], [0.1, 0, 0], [1.3, 0, 0]]), np.zeros((3, 3)))
    centre = masses @ start.positions / masses.sum()
    run = simulate.integrate(start, 5.0, "archain", radii=[0.01, 0.01, 0.01], on_collision="merge", record_times=np.linspace(0, 5, 51))
    assert run.status is simulate.Status.COMPLETED
    assert [c.bodies for c in run.collisions] == [(1, 2), (0, 1)] and all(c.merged for c in run.collisions)
    first, second = run.collisions
    assert 0.0 < first.time < second.time < 5.0
    steps = simulate.integrate(start, 5.0, "archain", radii=[0.01, 0.01, 0.01], on_collision="merge", record_times="steps")
    contact = steps.collisions[0]
    assert contact.time == pytest.approx(first.time, rel=1e-9)
    at = np.flatnonzero((steps.times == contact.time) & ~np.isnan(steps.positions[:, 2, 0]))[0]  # the state merged
    pair = pair_energy(masses, steps.positions[at], steps.velocities[at], 1, 2)
    assert np.linalg.norm(steps.positions[at, 2] - steps.positions[at, 1]) == pytest.approx(0.02, rel=1e-6)  # at contact
    assert contact.energy_change == pytest.approx(-pair, rel=0.05)  # the pair's internal energy leaves the system
    assert simulate.snapshot_masses(masses, run.collisions, run.positions[-1]).tolist() == [6.0, 0.0, 0.0]
    assert np.all(np.isnan(run.positions[-1, 1:])) and not np.any(np.isnan(run.positions[-1, 0]))
    assert np.abs(run.positions[-1, 0] - centre).max() < 1e-12 and np.abs(run.velocities[-1, 0]).max() < 1e-12
    momenta = [
        linear_momentum(simulate.snapshot_masses(masses, run.collisions, x), np.nan_to_num(v))
        for x, v in zip(run.positions, run.velocities, strict=True)
    ]
    assert np.abs(momenta).max() < 1e-12
    assert run.energy_error.max() < 1e-9  # the integration error, the mergers' energy changes left out


def test_merging_leaves_the_radius_with_the_volume():
    simulation = simulate.Simulation(two_at_rest(), "archain", radii=[0.03, 0.04], on_collision="merge")
    simulation.advance(1.0)
    assert simulation.ids.tolist() == [0] and simulation.radii[0] == pytest.approx((0.03**3 + 0.04**3) ** (1 / 3))
    assert simulation.full(simulation.x).shape == (2, 3) and np.isnan(simulation.full(simulation.x)[1]).all()


def test_batch_stops_the_systems_that_collide():
    positions = np.array([two_at_rest(1.0).positions, two_at_rest(10.0).positions])
    batch = integrate_batch(np.array([1.0, 3.0]), positions, np.zeros_like(positions), 1.0, "ias15", radii=[0.05, 0.05])
    assert batch.status.tolist() == [simulate.Status.COLLISION, simulate.Status.COMPLETED]
    assert batch.event_body[0] == 1  # pair (0, 1) as i * N + j


@pytest.mark.parametrize(
    "radii, on_collision, message",
    [
        ([0.1], "stop", "one radius per body"),
        ([0.1, -1.0], "stop", ">= 0"),
        ([0.1, np.nan], "stop", ">= 0"),
        ([0.1, 0.1], "bounce", "'stop' or 'merge'"),
    ],
)
def test_bad_radii_are_refused(radii, on_collision, message):
    with pytest.raises(ArgumentError, match=message):
        simulate.Simulation(two_at_rest(), "ias15", radii=radii, on_collision=on_collision)


def test_the_merger_case_records_the_collisions_in_its_result_and_log(tmp_path, capsys):
    from pathlib import Path

    from adaptsim.cases import load_case, run_case
    from adaptsim.results import load_results

    root = Path(__file__).resolve().parents[2]
    run_case(load_case(root / "cases" / "head_on_merger.yaml", ["t_end=1.5", "snapshots=151", "compare=[]"]), tmp_path)
    err = capsys.readouterr().err
    assert "bodies 1 and 2 collide at t = 0.7048" in err and "merged into body 0" in err and "NaN" not in err
    results = load_results(tmp_path / "result.h5")
    assert results.data["collisions"]["bodies"].tolist() == [[1, 2], [0, 1]]
    assert results.data["present"][-1].tolist() == [True, False, False]
    assert np.all(np.isfinite(results.data["positions"]))  # a merged body follows the one it merged into
    assert np.array_equal(results.data["positions"][-1, 2], results.data["positions"][-1, 0])
    assert results.attrs["summary"]["collisions"] == 2 and results.attrs["summary"]["status"] == "completed"
