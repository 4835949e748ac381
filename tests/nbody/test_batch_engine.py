"""The batch engine: each system with its own integrator and parameter, equal bit for bit to one Simulation each."""

import numba
import numpy as np
import pytest

from nbody import initial_conditions as ic
from nbody.batch_engine import HEAVY_SHARE, BatchEngine, _pooled, menu_kinds
from nbody.diagnostics import energy
from nbody.forces import collision_time
from nbody.integrators.settings import resolve
from nbody.integrators.table import STEP_TABLE
from nbody.lanes import LANES
from nbody.lockstep import MAX_BODIES
from nbody.simulate import Simulation
from nbody.state import System
from nbody.time_loop import Status

# The menu of the target-accuracy environment. A kernel is compiled per menu (minutes for this one on a cold cache),
# so a test of a stepper on it runs it on this menu: one compiled kernel for them all and the environment's tests.
MENU = [resolve("ias15", tol=1e-9), resolve("archain", tol=1e-12), resolve("hermite", eta=4e-3, criterion="collision")]
INTERVAL = 0.1 * ic.YEAR


def menu_of(stepper) -> list:
    """:data:`MENU` where ``stepper``'s step function is on it, else ``stepper`` alone."""
    return MENU if any(entry.code == stepper.code for entry in MENU) else [stepper]


def simulation(system: System, stepper, t: float = 0.0) -> Simulation:
    criterion = "collision" if STEP_TABLE[stepper.code] == ("hermite", "step_collision") else "aarseth"
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


def test_work_items_put_a_system_that_took_most_steps_alone_and_first_on_two_threads_only():
    """40 systems of one lane entry and 3 of another: the items are every system once; groups one per thread, each
    longest first by the last call's steps; on two threads a system above HEAVY_SHARE of all systems' steps runs
    alone ahead of the groups, on one thread it stays in its group; the groups the longest first."""
    engine = BatchEngine(MENU, 43, 3)
    engine.kind[:40] = engine.kind_of(MENU[2])
    engine.kind[40:] = engine.kind_of(MENU[0])
    engine.n_steps[:] = np.arange(43) % 7 + 1
    engine.n_steps[17] = 1_000
    systems = np.arange(43)
    previous = numba.get_num_threads()
    try:
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            alone, n_first, order, starts, group_kind = engine._work_items(systems)
            assert sorted([*alone, *order]) == list(range(43))
            work = []
            for group in range(group_kind.shape[0]):
                members = order[starts[group] : starts[group + 1]]
                assert np.all(np.diff(engine.n_steps[members]) <= 0) and np.all(engine.kind[members] == group_kind[group])
                work.append(engine.n_steps[members].sum())
            assert np.all(np.diff(work) <= 0)
            if threads == 2:
                assert HEAVY_SHARE * engine.n_steps.sum() < 1_000 and n_first == 1 and alone[0] == 17
                assert group_kind.tolist() == [*[engine.kind_of(MENU[2])] * 2, engine.kind_of(MENU[0])]
            else:
                assert n_first == 0 and alone.shape[0] == 0 and 17 in order
    finally:
        numba.set_num_threads(previous)


LANE_STEPPERS = [
    resolve("hermite", eta=4e-3, criterion="collision"),
    resolve("hermite", eta=2e-4, criterion="aarseth"),
    resolve("hermite", dt=2e-3),
    resolve("leapfrog", dt=1e-3),
    resolve("leapfrog", eta=2e-3),
    resolve("ias15", tol=1e-9),
    resolve("ias15", dt=0.3 * INTERVAL),
    resolve("archain", tol=1e-12),
    resolve("archain", dt=1e-4),
    resolve("rk", tol=1e-10),
    resolve("rk", dt=2e-3),
]


@pytest.mark.parametrize("stepper", LANE_STEPPERS, ids=lambda s: f"{STEP_TABLE[s.code][1]}-{s.name}-{s.parameter_name}")
def test_lock_step_equals_one_simulation_each_bit_for_bit(stepper):
    # a full set of lanes, refills and idle lanes; a parameter of its own per system (IAS15: over decades, so that
    # lanes converge in different rounds, and intervals of several steps)
    count = LANES + LANES // 2 + 1
    interval = INTERVAL * (20 if stepper.parameter_name == "tol" else 1)
    rng = np.random.default_rng(11)
    systems = [ic.saz_ulibarrena_2025(rng) for _ in range(count)]
    spread = np.geomspace(1e-3, 1e3, count) if stepper.parameter_name == "tol" else np.linspace(0.5, 1.5, count)
    values = stepper.parameter * spread
    engine = BatchEngine(menu_of(stepper), len(systems), 3, min_active=1)
    assert engine.lanes_of(stepper)
    for index, system in enumerate(systems):
        engine.load(index, system.masses, system.positions, system.velocities, system.softening, 0.0)
    kind = np.full(count, engine.kind_of(stepper))
    restart = np.ones(count, dtype=bool)
    for _ in range(3):
        engine.advance(np.arange(count), kind, values, engine.t + interval, restart)
        restart[:] = False
    for index, system in enumerate(systems):
        run = simulation(system, stepper)
        for _ in range(3):
            run.advance(run.t + interval, values[index])
        np.testing.assert_array_equal(engine.positions[index], run.x)
        np.testing.assert_array_equal(engine.velocities[index], run.v)
        assert engine.t[index] == run.t
        assert engine.energy[index] == energy(run.masses, run.x, run.v, run.softening)
    assert np.all(engine.status == Status.COMPLETED.value) and np.all(engine.n_steps >= 2)


@pytest.mark.parametrize("min_active", [1, 4])
def test_lock_step_keeps_every_count_status_and_work_array_of_the_systems_alone(min_active):
    """Against the same engine without lock step: a step budget that runs out for some, a restart alone for
    one, a non-finite state for another; every array equal."""
    rng = np.random.default_rng(5)
    engines = [BatchEngine(MENU, 21, 3, min_active=min_active), BatchEngine(MENU, 21, 3, min_active=LANES + 1)]
    systems = [ic.saz_ulibarrena_2025(rng) for _ in range(21)]
    kind = np.array([engines[0].kind_of(MENU[2])] * 19 + [engines[0].kind_of(MENU[0])] * 2)
    parameter = np.array([4e-3] * 19 + [1e-9] * 2)
    for engine in engines:
        for index, system in enumerate(systems):
            engine.load(index, system.masses, system.positions, system.velocities, system.softening, 0.0)
        engine.velocities[4, 0, 0] = np.nan  # breaks down in its first step
        target = engine.t + INTERVAL
        target[7] = 0.0  # restarted only
        engine.advance(np.arange(21), kind, parameter, target, np.ones(21, dtype=bool))
        engine.advance(np.arange(21), kind, parameter, engine.t + INTERVAL, np.zeros(21, dtype=bool), max_steps=10)
    lock, alone = engines
    for name in ("positions", "velocities", "t", "work", "n_steps", "n_force_evals", "status", "energy", "collision_time"):
        np.testing.assert_array_equal(getattr(lock, name), getattr(alone, name), err_msg=name)
    statuses = set(lock.status.tolist())
    assert {Status.MAX_STEPS.value, Status.NON_FINITE.value} <= statuses and Status.COMPLETED.value in statuses


@pytest.mark.parametrize(
    "stepper", [resolve("ias15", tol=1e-9), resolve("archain", tol=1e-12), resolve("rk", tol=1e-8)], ids=lambda s: s.name
)
def test_systems_leaving_their_lanes_in_the_middle_of_a_step_go_on_exactly(stepper):
    """IAS15, AR-CHAIN and Dormand-Prince lanes take their steps in different rounds (a round is an iteration, a
    leapfrog substep, an attempt); once the queue is empty and a lane frees, the others leave in the middle of an
    attempt, or between failed attempts, and finish in the time loop. In the first call one system's interval is one
    short step: the others leave in the middle of their first step (IAS15's iterations started from the ``b`` before
    it; AR-CHAIN's chain rebuilt in the lane's copy of the work array; Dormand-Prince's failed attempts' force
    evaluations given back, the step function redoing them). Against the same engine without lock step, with a
    non-finite state, a step budget and tolerances over decades: every array equal."""
    rng = np.random.default_rng(9)
    count = LANES
    systems = [ic.saz_ulibarrena_2025(rng) for _ in range(count)]
    values = stepper.parameter * np.geomspace(1e-4, 1e4, count) ** (1.0 if stepper.name == "ias15" else 0.5)
    menu = menu_of(stepper)
    engines = [BatchEngine(menu, count, 3, min_active=LANES), BatchEngine(menu, count, 3, min_active=LANES + 1)]
    kind = np.full(count, engines[0].kind_of(stepper))
    names = ("positions", "velocities", "t", "work", "n_steps", "n_force_evals", "status")
    calls: list[list[dict[str, np.ndarray]]] = [[], []]
    for engine, arrays in zip(engines, calls, strict=True):
        assert engine.lanes_of(stepper) == (engine is engines[0])
        for index, system in enumerate(systems):
            engine.load(index, system.masses, system.positions, system.velocities, system.softening, 0.0)
        engine.velocities[4, 0, 0] = np.nan
        target = engine.t + INTERVAL
        target[0] = 1e-6 * INTERVAL
        for restart, span, max_steps in ((True, None, 10**6), (False, 20 * INTERVAL, 10**6), (False, 20 * INTERVAL, 5)):
            engine.advance(np.arange(count), kind, values, target if span is None else engine.t + span, np.full(count, restart), max_steps)
            arrays.append({name: getattr(engine, name).copy() for name in names})
    for call, (lock, alone) in enumerate(zip(*calls, strict=True)):
        for name in names:
            np.testing.assert_array_equal(lock[name], alone[name], err_msg=f"{name} after call {call}")
    statuses = {status for arrays in calls[0] for status in arrays["status"].tolist()}
    broken = Status.STEP_UNDERFLOW if stepper.name == "archain" else Status.NON_FINITE  # (AR-CHAIN: no attempt succeeds)
    assert {Status.MAX_STEPS.value, broken.value, Status.COMPLETED.value} <= statuses


def test_a_pool_slot_gives_its_system_or_nothing_once_every_group_is_done():
    """The slots of the pool hold a system plus one (0: empty); a thread waiting on an empty slot gets -1 once no
    group is left to fill it (with groups left it waits: not called so here)."""
    pool = np.array([3, 1, 0, 0], dtype=np.int64)
    no_group_left = np.zeros(1, dtype=np.int64)
    assert [_pooled(pool, slot, no_group_left) for slot in range(4)] == [2, 0, -1, -1]
    assert _pooled(pool, 0, np.ones(1, dtype=np.int64)) == 2


def test_systems_of_more_bodies_than_lock_step_takes_run_alone():
    stepper = resolve("hermite", eta=4e-3, criterion="collision")
    assert BatchEngine([stepper], 2, MAX_BODIES).lanes_of(stepper)
    assert not BatchEngine([stepper], 2, MAX_BODIES + 1).lanes_of(stepper)
    assert not BatchEngine([stepper], 2, MAX_BODIES, min_active=LANES + 1).lanes_of(stepper)
