"""The batch engine: each system with its own integrator and parameter, equal bit for bit to one Simulation each."""

import numpy as np
import pytest

from nbody import initial_conditions as ic
from nbody.batch_engine import BatchEngine, menu_kinds
from nbody.diagnostics import energy
from nbody.forces import collision_time
from nbody.integrators.settings import resolve
from nbody.simulate import Simulation
from nbody.state import System
from nbody.time_loop import Status

# The menu of the target-accuracy environment (one compiled kernel for both tests).
MENU = [resolve("ias15", tol=1e-9), resolve("archain", tol=1e-12), resolve("hermite", eta=4e-3, criterion="collision")]
INTERVAL = 0.1 * ic.YEAR


def simulation(system: System, stepper, t: float = 0.0) -> Simulation:
    criterion = "collision" if stepper.name == "hermite" else "aarseth"
    run = Simulation(system, stepper.name, criterion=criterion, **{stepper.parameter_name: stepper.parameter})
    run.t = t
    return run


def test_the_menu_is_its_step_functions_in_the_order_of_their_codes():
    engine = BatchEngine(MENU, 2, 3)
    assert engine.kinds == menu_kinds(sum(1 << s.code for s in MENU))
    assert [engine.kinds[engine.kind_of(s)][0] for s in MENU] == [s.code for s in MENU]
    assert [code for code, _ in engine.kinds] == sorted(s.code for s in MENU)
    with pytest.raises(ValueError):
        engine.kind_of(resolve("leapfrog", dt=1e-3))


def test_mixed_integrators_and_a_switch_equal_one_simulation_each_bit_for_bit():
    rng = np.random.default_rng(7)
    systems = [ic.saz_ulibarrena_2025(rng) for _ in range(6)]
    engine = BatchEngine(MENU, len(systems), 3)
    for index, system in enumerate(systems):
        engine.load(index, system.masses, system.positions, system.velocities, system.softening, 0.0)
    first = [MENU[index % 3] for index in range(6)]
    then = [MENU[(index + 1) % 3] for index in range(6)]  # every system switches integrator after 4 intervals
    everyone = np.arange(6)
    # a parameter per system, not the stepper's own
    first_values = np.array([1e-7, 1e-12, 2e-3, 1e-9, 1e-14, 4e-3])
    then_values = np.array([1e-12, 4e-3, 1e-9, 1e-14, 2e-3, 1e-7])

    def step(plan, values, restart):
        kind = np.array([engine.kind_of(s) for s in plan])
        engine.advance(everyone, kind, values, engine.t + INTERVAL, np.full(6, restart), max_steps=100_000)

    references = []
    for index, system in enumerate(systems):
        run = simulation(system, first[index])
        for _ in range(4):
            run.advance(run.t + INTERVAL, first_values[index])
        run = simulation(System(system.masses, run.x, run.v, system.softening), then[index], run.t)
        for _ in range(3):
            run.advance(run.t + INTERVAL, then_values[index])
        references.append(run)
    step(first, first_values, True)
    for _ in range(3):
        step(first, first_values, False)
    evals = engine.n_force_evals.copy()
    step(then, then_values, True)
    assert np.all(engine.n_force_evals > 0) and not np.array_equal(engine.n_force_evals, evals)
    for _ in range(2):
        step(then, then_values, False)
    for index, run in enumerate(references):
        np.testing.assert_array_equal(engine.positions[index], run.x)
        np.testing.assert_array_equal(engine.velocities[index], run.v)
        assert engine.t[index] == run.t == pytest.approx(7 * INTERVAL)
        assert engine.energy[index] == energy(run.masses, run.x, run.v, run.softening)
        assert engine.collision_time[index] == collision_time(run.masses, run.x, run.v, run.eps2)
    assert np.all(engine.status == Status.COMPLETED.value)


def test_only_the_systems_asked_for_move_and_a_restart_alone_does_not_advance():
    rng = np.random.default_rng(3)
    engine = BatchEngine(MENU, 3, 3)
    for index in range(3):
        system = ic.saz_ulibarrena_2025(rng)
        engine.load(index, system.masses, system.positions, system.velocities, system.softening, 0.0)
    before = engine.positions.copy()
    kind = np.full(3, engine.kind_of(MENU[0]))
    engine.advance(np.array([0, 2]), kind, np.full(3, 1e-9), np.array([INTERVAL, INTERVAL, INTERVAL]), np.ones(3, bool))
    engine.advance(np.array([1]), kind, np.full(3, 1e-9), engine.t.copy(), np.ones(3, bool))  # restart only
    np.testing.assert_array_equal(engine.positions[1], before[1])
    assert engine.t[1] == 0.0 and engine.n_steps[1] == 0 and engine.n_force_evals[1] > 0
    assert np.all(engine.t[[0, 2]] == INTERVAL) and not np.array_equal(engine.positions[0], before[0])
