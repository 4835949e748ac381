"""Integrators against closed forms, conservation laws, measured orders and REBOUND."""

import numba
import numpy as np
import pytest
from numba.core.errors import TypingError

from nbody import initial_conditions as ic
from nbody import simulate
from nbody.batch import integrate_batch
from nbody.diagnostics import linear_momentum, pair_energy
from nbody.errors import ArgumentError
from nbody.forces import accelerations_jerks, collision_time
from nbody.integrators import hermite
from nbody.integrators.dispatch import step
from nbody.integrators.settings import resolve
from nbody.integrators.table import INTEGRATOR_NAMES, INTEGRATORS
from tests.nbody.conftest import largest_difference_from_rebound, rebound_simulation

T8 = ic.FIGURE_EIGHT_PERIOD


def final_position(system, t_end, integrator, **parameter):
    return simulate.integrate(system, t_end, integrator, record_times=[t_end], **parameter).positions[-1]


@pytest.mark.parametrize(
    "integrator, order, steps",
    [("leapfrog", 2, [0.02, 0.01, 0.005, 0.0025]), ("hermite", 4, [0.04, 0.02, 0.01, 0.005]), ("rk", 5, [0.04, 0.02, 0.01, 0.005])],
)
def test_convergence_order_on_the_figure_eight(figure_eight, integrator, order, steps):
    reference = final_position(figure_eight, 2.0, "ias15", tol=1e-12)
    errors = [np.abs(final_position(figure_eight, 2.0, integrator, dt=dt) - reference).max() for dt in steps]
    slope = np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert abs(slope - order) < 0.3, (errors, slope)


def test_figure_eight_ten_periods_ias15(figure_eight):
    run = simulate.integrate(figure_eight, 10 * T8, "ias15", record_times=np.arange(11) * T8)
    assert run.status is simulate.Status.COMPLETED
    assert run.energy0 == pytest.approx(ic.FIGURE_EIGHT_ENERGY, abs=1e-5)
    assert np.abs(run.positions[-1] - run.positions[0]).max() < 1e-6
    assert np.abs(run.velocities[-1] - run.velocities[0]).max() < 1e-6
    assert run.energy_error.max() < 1e-13
    assert run.angular_momentum_error.max() < 1e-13
    # The step control is REBOUND's (PRS23) with a floor on vanishing accelerations: where the middle body's
    # acceleration passes through zero (twice a period) REBOUND's steps collapse and recover, ours do not, so
    # ours take about a third of its steps at the same accuracy.
    simulation = rebound_simulation(figure_eight)
    simulation.integrate(10 * T8, exact_finish_time=0)
    assert 0.25 * simulation.steps_done < run.n_steps < 0.5 * simulation.steps_done


@pytest.mark.slow
def test_ias15_integrates_1000_figure_eight_periods_without_a_step_collapse(figure_eight):
    """Without the acceleration floor the step shrank to 0.75 of the last until t + dt == t at t = 4124.5 (652 periods)."""
    run = simulate.integrate(figure_eight, 1000 * T8, "ias15", tol=1e-9, record_times=np.linspace(0.0, 1000 * T8, 1001))
    assert run.status is simulate.Status.COMPLETED and run.times[-1] == pytest.approx(1000 * T8)
    assert run.energy_error.max() < 1e-14
    assert np.abs(run.positions[-1] - run.positions[0]).max() < 1e-4  # back to the start after 1000 periods


def test_pythagorean_problem_against_rebound():
    system = ic.pythagorean()
    times = np.linspace(0.0, 15.0, 31)
    run = simulate.integrate(system, 100.0, "ias15", record_times=times)
    assert largest_difference_from_rebound(system, simulate.integrate(system, 15.0, "ias15", record_times=times)) < 1e-8
    assert run.times[-1] == 100.0
    assert run.energy_error.max() < 1e-9
    final = run.final
    # Body 0 (mass 3) leaves; 4 and 5 form a bound binary, body 0 is unbound from it.
    assert pair_energy(final.masses, final.positions, final.velocities, 1, 2) < 0.0
    binary_mass = final.masses[1] + final.masses[2]
    centre = (final.masses[1] * final.positions[1] + final.masses[2] * final.positions[2]) / binary_mass
    velocity = (final.masses[1] * final.velocities[1] + final.masses[2] * final.velocities[2]) / binary_mass
    lumped = type(final)(
        np.array([final.masses[0], binary_mass]), np.array([final.positions[0], centre]), np.array([final.velocities[0], velocity])
    )
    assert pair_energy(lumped.masses, lumped.positions, lumped.velocities, 0, 1) > 0.0
    assert np.linalg.norm(final.positions[0] - centre) > 50.0


def test_escape_event_stops_the_run():
    run = simulate.integrate(ic.pythagorean(), 200.0, "ias15", stop_on_escape=True, record_times=[50.0, 200.0])
    assert run.status is simulate.Status.ESCAPE and run.escaped == 0
    assert 30.0 < run.times[-1] < 200.0
    final = run.positions[-1]
    binary_centre = (4.0 * final[1] + 5.0 * final[2]) / 9.0
    radius = simulate.default_escape_radius(ic.pythagorean())
    assert radius == pytest.approx(10.0 * np.sqrt(10.0))  # 10x the largest initial distance from the centre of mass
    assert np.linalg.norm(final[0] - binary_centre) > radius


def test_close_encounter_event():
    run = simulate.integrate(ic.pythagorean(), 10.0, "ias15", close_encounter=0.05, record_times=[])
    assert run.status is simulate.Status.CLOSE_ENCOUNTER
    i, j = run.close_encounter
    assert np.linalg.norm(run.positions[-1][i] - run.positions[-1][j]) < 0.05
    assert run.times[-1] < 10.0


@pytest.mark.parametrize(
    "integrator, parameter", [("hermite", {"eta": 0.02}), ("leapfrog", {"eta": 0.01}), ("rk", {"tol": 1e-9}), ("ias15", {})]
)
def test_momentum_conserved_to_round_off(integrator, parameter):
    system = ic.random_three_body(3, virial_ratio=0.7)
    run = simulate.integrate(system, 5.0, integrator, record_times=[5.0], **parameter)
    momentum = linear_momentum(run.masses, run.velocities)
    assert np.abs(momentum - momentum[0]).max() < 1e-13
    assert run.angular_momentum_error[-1] < (1e-12 if integrator in ("leapfrog", "ias15") else 1e-5)


def test_leapfrog_is_time_reversible(figure_eight):
    forward = simulate.integrate(figure_eight, 3.0, "leapfrog", dt=1e-2, record_times=[3.0]).final
    forward.velocities = -forward.velocities
    back = simulate.integrate(forward, 3.0, "leapfrog", dt=1e-2, record_times=[3.0]).final
    assert np.abs(back.positions - figure_eight.positions).max() < 1e-12
    assert np.abs(-back.velocities - figure_eight.velocities).max() < 1e-12


def test_leapfrog_energy_error_stays_bounded(figure_eight):
    """Symplectic: no secular drift over 10 periods (the error at the end is not larger than over the first period)."""
    run = simulate.integrate(figure_eight, 10 * T8, "leapfrog", dt=2e-3, record_times=np.linspace(0, 10 * T8, 501))
    first_period = run.energy_error[run.times <= T8].max()
    assert run.energy_error.max() < 1.5 * first_period


def test_lagrange_rigid_rotation():
    masses = np.array([1.0, 2.0, 3.0])
    period = ic.lagrange_period(masses, side=1.5)
    run = simulate.integrate(ic.lagrange(masses, side=1.5), period, "ias15", record_times=[period / 3.0, period])
    assert np.abs(run.positions[-1] - run.positions[0]).max() < 1e-9
    sides = [np.linalg.norm(run.positions[1][i] - run.positions[1][j]) for i, j in ((0, 1), (1, 2), (0, 2))]
    assert np.allclose(sides, 1.5, rtol=1e-10)


@pytest.mark.parametrize("criterion, order", [("aarseth", 2.0), ("collision", 4.0)])
def test_hermite_error_scaling_with_eta(figure_eight, criterion, order):
    """Fourth order in dt: Aarseth's dt ~ sqrt(eta) gives errors ~ eta^2, the collision-time dt ~ eta gives eta^4."""
    reference = final_position(figure_eight, T8, "ias15", tol=1e-12)
    etas = [0.04, 0.01, 0.0025]
    errors = [np.abs(final_position(figure_eight, T8, "hermite", eta=eta, criterion=criterion) - reference).max() for eta in etas]
    slope = np.polyfit(np.log(etas), np.log(errors), 1)[0]
    assert abs(slope - order) < 0.3, (errors, slope)


def test_hermite_aarseth_step_uses_true_derivatives(figure_eight):
    """After a few small steps, the a2, a3 of the Hermite interpolant match finite differences of the exact jerk."""
    eta = 1e-4
    simulation = simulate.Simulation(figure_eight, "hermite", eta=eta)
    simulation.advance(0.3)
    n = 3
    dt_chosen = hermite.aarseth_dt(simulation.work, n, eta)
    h = 1e-3
    jerks = []
    for target in (0.3 - h, 0.3, 0.3 + h):
        state = simulate.integrate(figure_eight, target, "ias15", tol=1e-12, record_times=[target]).final
        a, j = np.empty((3, 3)), np.empty((3, 3))
        accelerations_jerks(state.masses, state.positions, state.velocities, 0.0, a, j)
        jerks.append((a, j))
    a, j = jerks[1]
    snap = (jerks[2][1] - jerks[0][1]) / (2 * h)
    crackle = (jerks[2][1] - 2 * j + jerks[0][1]) / h**2
    norm = lambda q: np.linalg.norm(q, axis=1)  # noqa: E731
    expected = np.sqrt(eta * (norm(a) * norm(snap) + norm(j) ** 2) / (norm(j) * norm(crackle) + norm(snap) ** 2)).min()
    assert dt_chosen == pytest.approx(expected, rel=3e-3)


def test_hermite_stores_scaled_derivatives_and_aarseth_takes_them_as_the_textbook_quotient(figure_eight):
    """The work array holds ``a2 h^2, a3 h^3`` and the last step ``h``; Aarseth's step from them, its powers of ``h``
    multiplied out, equals ``sqrt(eta (|a||a2| + |j|^2) / (|j||a3| + |a2|^2))`` of the unscaled derivatives."""
    eta = 1e-3
    simulation = simulate.Simulation(figure_eight, "hermite", eta=eta)
    simulation.advance(0.2)
    work = simulation.work
    h = work[-1]
    assert 0.0 < h < 0.2
    blocks = work[:-1].reshape(8, 3, 3)
    a, j, a2, a3 = blocks[0], blocks[1], blocks[2] / h**2, blocks[3] / h**3
    norm = lambda q: np.linalg.norm(q, axis=1)  # noqa: E731
    expected = np.sqrt(eta * (norm(a) * norm(a2) + norm(j) ** 2) / (norm(j) * norm(a3) + norm(a2) ** 2)).min()
    assert hermite.aarseth_dt(work, 3, eta) == pytest.approx(expected, rel=1e-13)


def test_hermite_collision_criterion_first_step(figure_eight):
    simulation = simulate.Simulation(figure_eight, "hermite", eta=0.03, criterion="collision")
    simulation.advance(1.0, max_steps=1)
    x, v, m = figure_eight.positions, figure_eight.velocities, figure_eight.masses
    pairs = [(0, 1), (0, 2), (1, 2)]
    times = []
    for i, j in pairs:
        r = np.linalg.norm(x[i] - x[j])
        u = np.linalg.norm(v[i] - v[j])
        times += [r / u if u > 0 else np.inf, np.sqrt(r**3 / (m[i] + m[j]))]
    assert simulation.t == pytest.approx(0.03 * min(times), rel=1e-14)
    assert collision_time(m, x, v, 0.0) == pytest.approx(min(times), rel=1e-14)


def test_changing_the_parameter_between_intervals(figure_eight):
    simulation = simulate.Simulation(figure_eight, "hermite", eta=0.02)
    costs = []
    for interval, eta in enumerate([0.1, 0.001, 0.1]):
        before = simulation.n_force_evals
        simulation.advance(0.5 * (interval + 1), eta)
        costs.append(simulation.n_force_evals - before)
        assert simulation.t == 0.5 * (interval + 1)
    assert costs[1] > 5 * costs[0] and costs[1] > 5 * costs[2]
    assert simulation.energy_error() < 1e-4
    with pytest.raises(ArgumentError, match="eta: must be a finite number > 0"):
        simulation.advance(2.0, -1.0)
    with pytest.raises(ArgumentError, match="eta: must be at most 1, got 1e"):
        simulation.advance(2.0, 1e308)
    with pytest.raises(ArgumentError, match="tol: must be at most 1, got 2.0"):
        simulate.Simulation(figure_eight, "ias15", tol=2.0)


def test_run_records_only_the_start_and_the_end_by_default(figure_eight):
    run = simulate.integrate(figure_eight, 1.0, "hermite", eta=0.02)
    assert run.times.tolist() == [0.0, 1.0] and run.positions.shape == (2, 3, 3) and run.n_steps > 10


def test_run_records_every_step_when_asked(figure_eight):
    run = simulate.integrate(figure_eight, 1.0, "hermite", eta=0.02, record_times="steps")
    assert run.times[0] == 0.0 and run.times[-1] == 1.0
    assert len(run.times) == run.n_steps + 1
    assert run.positions.shape == (run.n_steps + 1, 3, 3) and run.energy_error.shape == run.times.shape
    assert run.n_force_evals == run.n_steps + 1 and run.escaped == -1


def test_batch_matches_single_runs():
    systems = [ic.random_three_body(seed, planar=True) for seed in range(6)]
    masses = np.array([s.masses for s in systems])
    positions = np.array([s.positions for s in systems])
    velocities = np.array([s.velocities for s in systems])
    batch = integrate_batch(masses, positions, velocities, 2.0, "hermite", eta=0.01)
    for index, system in enumerate(systems):
        single = simulate.integrate(system, 2.0, "hermite", eta=0.01, record_times=[])
        np.testing.assert_array_equal(batch.positions[index], single.positions[-1])
        assert batch.n_steps[index] == single.n_steps
        assert batch.n_force_evals[index] == single.n_force_evals
        assert batch.energy_error[index] == pytest.approx(single.energy_error[-1], rel=1e-12, abs=1e-18)
    assert np.all(batch.status == simulate.Status.COMPLETED) and np.all(batch.times == 2.0)


@pytest.mark.parametrize(
    "integrator, parameters, text",
    [
        ("euler", {}, "unknown integrator 'euler'"),
        ("hermite", {"eta": 0.0}, "eta: must be a finite number > 0"),
        ("hermite", {"eta": -0.1}, "eta: must be a finite number > 0"),
        ("hermite", {"eta": float("nan")}, "eta: must be a finite number > 0"),
        ("leapfrog", {"dt": float("inf")}, "dt: must be a finite number > 0"),
        ("ias15", {"eta": 0.1}, "takes tol or dt, not eta"),
        ("hermite", {"tol": 1e-9}, "takes eta or dt, not tol"),
        ("rk", {"tol": 1e-9, "dt": 0.1}, "give one of tol, dt, not tol and dt"),
        ("hermite", {"criterion": "magic"}, "unknown step criterion"),
    ],
)
def test_bad_integrator_parameters(integrator, parameters, text):
    with pytest.raises(ArgumentError, match=text):
        resolve(integrator, **parameters)


@pytest.mark.parametrize("t_end", [0.0, -1.0, float("nan")])
def test_bad_final_time(figure_eight, t_end):
    with pytest.raises(ArgumentError, match="t_end: must be a finite number > 0"):
        simulate.integrate(figure_eight, t_end)


@pytest.mark.parametrize("entry", INTEGRATORS, ids=INTEGRATOR_NAMES)
def test_every_table_entry_dispatches_to_its_own_step_function(entry):
    """Compiled for code ``k``, the dispatch calls step function ``k`` of the table (the same state after one
    step as a direct call of that function)."""

    def compiled(code):
        return numba.njit(lambda x, v, m, eps2, param, dt_max, work: step(code, x, v, m, eps2, param, dt_max, work))

    for criterion, _ in entry.adaptive:
        for parameter in (entry.parameter, "dt"):
            stepper = resolve(entry.name, **{parameter: 1e-3}, criterion=criterion or "aarseth")
            states = []
            for call in (compiled(stepper.code), stepper.step):
                sim = simulate.Simulation(ic.figure_eight(), entry.name, **{parameter: 1e-3}, criterion=criterion or "aarseth")
                dt, evals = call(sim.x, sim.v, sim.masses, sim.eps2, 1e-3, 0.1, sim.work)
                states.append((dt, evals, sim.x.copy()))
            assert states[0][0] == states[1][0] and states[0][1] == states[1][1] and np.array_equal(states[0][2], states[1][2])


def test_a_step_code_known_only_at_run_time_is_refused_when_compiling():
    """(It would compile every integrator into the caller.)"""
    sim = simulate.Simulation(ic.figure_eight(), "hermite")
    run_time_code = numba.njit(lambda code, x, v, m, eps2, work: step(code, x, v, m, eps2, 0.02, 0.1, work))
    with pytest.raises(TypingError, match="step code must be a compile-time constant"):
        run_time_code(0, sim.x, sim.v, sim.masses, sim.eps2, sim.work)
