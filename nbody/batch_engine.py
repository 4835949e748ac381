"""Many independent systems advanced side by side, interval by interval, each with its own integrator and parameter.

A :class:`BatchEngine` holds the states, integrator work spaces, times and counters of ``B`` systems of ``N``
bodies. One call of :meth:`BatchEngine.advance` runs one compiled, ``parallel=True`` kernel over the systems
asked for: each may first (re)start an integrator of the engine's menu from its current state, then runs the
same compiled time loop as :class:`~nbody.simulate.Simulation` (:func:`~nbody.time_loop.advance`) to its own
target time with its own parameter. Systems whose step function has a lane step are dealt into groups instead, one
per thread, and each group is integrated in lock step, sixteen systems per step in SIMD (:mod:`nbody.lockstep`), with
the same results; the last few of a group, once too few to fill the lanes, go to a pool that every thread free takes
from (a system in a close encounter can have most of a call's steps still ahead of it there). The kernel also
returns each system's total energy and collision time, so a vector environment needs no other pass over the states.

The menu is fixed when the engine is built, and the kernel is compiled for the step functions in it alone
(:mod:`nbody.integrators.dispatch` needs compile-time step codes): the kernel holds the menu as one number, a bit
mask of step codes, and :func:`run_menu` expands it at compile time into a chain of inlined branches, one per step
function. (Were the chain's compiled functions held by the kernel itself, Numba's on-disk cache key of the kernel
would change in every process, and every run would compile it again.)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numba
import numpy as np
from numba import prange, types
from numba.core.errors import TypingError
from numba.extending import overload

from nbody._jit import fetch_add, jit, jit_inline, parallel_jit, take_next
from nbody.integrators.dispatch import init
from nbody.integrators.stepper import Stepper
from nbody.integrators.table import INTEGRATOR_NAMES, STEP_TABLE
from nbody.lanes import LANES
from nbody.lockstep import MIN_ACTIVE, has_lanes, lockstep_runner, observe
from nbody.time_loop import advance

#: On more than one thread, a system of a step function with a lane step that took more than this share of the
#: steps of the systems advanced together in its last call runs alone (its steps at the scalar rate, from the first
#: moment of the call) instead of in a group (see :meth:`BatchEngine._work_items`).
HEAVY_SHARE = 0.1

#: One step function of a menu: ``(step code, integrator code)`` as :class:`~nbody.integrators.stepper.Stepper` has them.
Kind = tuple[int, int]


def _kind_runner(code: int, module_code: int) -> Callable[..., Any]:
    """(Re)start integrator ``module_code`` if asked, then run the time loop of step function ``code``."""

    @jit_inline
    def run(kind, restart, x, v, m, eps2, param, work, t, t_target, max_steps, escape_radius, close_distance, radii):
        spent = 0
        if restart:
            work[:] = 0.0
            spent = init(module_code, x, v, m, eps2, work)
        t, steps, evals, status, body, _ = advance(
            code, x, v, m, eps2, param, work, t, t_target, max_steps, escape_radius, close_distance, radii,
            np.empty(0), np.empty((0, 1, 3)), np.empty((0, 1, 3)), 0,
        )  # fmt: skip
        return t, steps, spent + evals, status, body

    return run


def _menu_runner(kinds: tuple[Kind, ...]) -> Callable[..., Any]:
    """The runner of ``kinds[kind]`` for a run-time ``kind``: a chain of branches, each on one compile-time code."""
    first = _kind_runner(*kinds[0])
    if len(kinds) == 1:
        return first
    rest = _menu_runner(kinds[1:])

    @jit_inline
    def run(kind, restart, x, v, m, eps2, param, work, t, t_target, max_steps, escape_radius, close_distance, radii):
        if kind == 0:
            return first(kind, restart, x, v, m, eps2, param, work, t, t_target, max_steps, escape_radius, close_distance, radii)
        return rest(kind - 1, restart, x, v, m, eps2, param, work, t, t_target, max_steps, escape_radius, close_distance, radii)

    return run


def menu_kinds(menu_mask: int) -> tuple[Kind, ...]:
    """The step functions of a menu given as a bit mask of step codes, in the order of their codes."""
    return tuple((code, INTEGRATOR_NAMES.index(name)) for code, (name, _) in enumerate(STEP_TABLE) if menu_mask >> code & 1)


def run_menu(menu_mask, kind, restart, x, v, m, eps2, param, work, t, t_target, max_steps, escape_radius, close_distance, radii):
    """Compiled code only: (re)start and advance one system with entry ``kind`` of the menu ``menu_mask`` (a
    compile-time bit mask of step codes; the compiled kernel's cache key is then that number alone), with the time
    loop's events (:func:`nbody.time_loop.advance`); returns ``(t, steps, force evaluations, status, body)``."""
    raise NotImplementedError("run_menu is called from compiled code only")


@overload(run_menu, inline="always")
def _run_menu_compiled(menu_mask, kind, restart, x, v, m, eps2, param, work, t, t_target, max_steps, escape_radius, close_distance, radii):
    if not isinstance(menu_mask, types.IntegerLiteral):
        raise TypingError(f"the menu must be a compile-time constant, got {menu_mask}")
    run = _menu_runner(menu_kinds(menu_mask.literal_value))

    def call(menu_mask, kind, restart, x, v, m, eps2, param, work, t, t_target, max_steps, escape_radius, close_distance, radii):
        return run(kind, restart, x, v, m, eps2, param, work, t, t_target, max_steps, escape_radius, close_distance, radii)

    return call


def _lanes_runner(entries: tuple[tuple[int, Callable[..., Any]], ...]) -> Callable[..., Any]:
    """The lock-step run of menu entry ``kind`` among ``entries`` (``(menu entry, lock-step run)``), a chain of
    branches on compile-time entries; nothing for an entry without one."""
    if not entries:

        @jit_inline
        def nothing(
            kind, queue, restart, param, t_target, max_steps, m, x, v, eps2, work, t, steps, evals, status, body,
            energies, t_coll, min_active, pool, pool_size, escape_radius, close_distance,
        ):  # fmt: skip
            return None

        return nothing
    (index, first), rest = entries[0], _lanes_runner(entries[1:])

    @jit_inline
    def run(
        kind, queue, restart, param, t_target, max_steps, m, x, v, eps2, work, t, steps, evals, status, body, energies,
        t_coll, min_active, pool, pool_size, escape_radius, close_distance,
    ):  # fmt: skip
        if kind == index:
            first(
                queue, restart, param, t_target, max_steps, m, x, v, eps2, work, t, steps, evals, status, body, energies,
                t_coll, min_active, pool, pool_size, escape_radius, close_distance,
            )  # fmt: skip
        else:
            rest(
                kind, queue, restart, param, t_target, max_steps, m, x, v, eps2, work, t, steps, evals, status, body,
                energies, t_coll, min_active, pool, pool_size, escape_radius, close_distance,
            )  # fmt: skip

    return run


def lane_entries(menu_mask: int, n_bodies: int) -> tuple[int, ...]:
    """The entries of a menu whose step function has a lane step for ``n_bodies`` (:mod:`nbody.lockstep`)."""
    return tuple(index for index, (code, _) in enumerate(menu_kinds(menu_mask)) if has_lanes(code, n_bodies))


def run_lanes(
    menu_mask, n_bodies, kind, queue, restart, param, t_target, max_steps, m, x, v, eps2, work, t, steps, evals,
    status, body, energies, t_coll, min_active, pool, pool_size, escape_radius, close_distance,
):  # fmt: skip
    """Compiled code only: the systems ``queue``, all of menu entry ``kind``, in lock step (:mod:`nbody.lockstep`);
    ``menu_mask`` and ``n_bodies`` are compile-time constants."""
    raise NotImplementedError("run_lanes is called from compiled code only")


@overload(run_lanes, inline="always")
def _run_lanes_compiled(
    menu_mask, n_bodies, kind, queue, restart, param, t_target, max_steps, m, x, v, eps2, work, t, steps, evals,
    status, body, energies, t_coll, min_active, pool, pool_size, escape_radius, close_distance,
):  # fmt: skip
    if not isinstance(menu_mask, types.IntegerLiteral) or not isinstance(n_bodies, types.IntegerLiteral):
        raise TypingError(f"the menu and the number of bodies must be compile-time constants, got {menu_mask}, {n_bodies}")
    kinds, n = menu_kinds(menu_mask.literal_value), n_bodies.literal_value
    run = _lanes_runner(tuple((index, lockstep_runner(*kinds[index], n)) for index in lane_entries(menu_mask.literal_value, n)))

    def call(
        menu_mask, n_bodies, kind, queue, restart, param, t_target, max_steps, m, x, v, eps2, work, t, steps, evals,
        status, body, energies, t_coll, min_active, pool, pool_size, escape_radius, close_distance,
    ):  # fmt: skip
        return run(
            kind, queue, restart, param, t_target, max_steps, m, x, v, eps2, work, t, steps, evals, status, body, energies,
            t_coll, min_active, pool, pool_size, escape_radius, close_distance,
        )  # fmt: skip

    return call


@jit
def _run_system(
    menu_mask, s, pooled, restart, kind, param, t_target, max_steps, m, x, v, eps2, work, sizes, t, steps, evals, status, body,
    escape_radius, close_distance, radii,
):  # fmt: skip
    """System ``s`` of the kernel's arrays: :func:`run_menu`, (re)started if ``restart[s]``; or, ``pooled`` (handed to
    the pool by a lock-step run), on from where its lane left it, its steps and force evaluations added to those it
    took in the lane. (A compiled function of its own: inlined into the parallel loop, the integrators ran up to 30 %
    slower.)"""
    k = kind[s]
    steps_before = steps[s] if pooled else 0
    evals_before = evals[s] if pooled else 0
    t[s], done, more, status[s], body[s] = run_menu(
        menu_mask, k, restart[s] and not pooled, x[s], v[s], m[s], eps2[s], param[s], work[s, : sizes[k]], t[s], t_target[s],
        max_steps - steps_before, escape_radius, close_distance, radii,
    )  # fmt: skip
    steps[s] = steps_before + done
    evals[s] = evals_before + more


@jit
def _pooled(pool, slot, groups_left):
    """The system in ``pool[slot]`` once a lock-step run has put it there, or -1 if none will (every group done and
    the slot still empty). Waits until one or the other."""
    while True:
        entry = fetch_add(pool, slot, 0)
        if entry > 0:
            return entry - 1
        if fetch_add(groups_left, 0, 0) == 0:  # every push is done before its group counts itself done
            return fetch_add(pool, slot, 0) - 1


@jit
def _advance_group(
    menu_mask, n_bodies, kind, queue, restart, param, t_target, max_steps, m, x, v, eps2, work, t, steps, evals,
    status, body, energies, t_coll, min_active, pool, pool_size, escape_radius, close_distance,
):  # fmt: skip
    """The systems ``queue`` of menu entry ``kind`` in lock step (:func:`run_lanes`)."""
    run_lanes(
        menu_mask, n_bodies, kind, queue, restart, param, t_target, max_steps, m, x, v, eps2, work, t, steps, evals,
        status, body, energies, t_coll, min_active, pool, pool_size, escape_radius, close_distance,
    )  # fmt: skip


@functools.cache
def _kernel(menu_mask: int, n_bodies: int, lock_step: bool) -> Callable[..., None]:
    """The parallel kernel of a menu of step functions for ``n_bodies`` (one compilation each, kept on disk), with
    the lock-step runs of the menu's lane steps, or (not ``lock_step``) compiled without them.

    Its work items, in the order the threads take them (each thread the next item when it is free, :func:`take_next`),
    are ``alone[:n_first]`` one by one, the groups of systems of one menu entry with a lane step,
    ``order[starts[g]:starts[g + 1]]`` of entry ``group_kind[g]``, each in lock step, then ``alone[n_first:]``. A
    thread with no item left finishes the systems the lock-step runs hand to the pool (:mod:`nbody.lockstep`), as
    they come, until every group is done. Each system's energy and collision time are computed after it.
    """
    lanes_mask = menu_mask if lock_step else 0  # the menu the lock-step runs are compiled for

    @parallel_jit
    def kernel(
        alone, n_first, order, starts, group_kind, restart, kind, param, t_target, max_steps, m, x, v, eps2, work, sizes, t, steps,
        evals, status, body, energies, t_coll, min_active, n_threads, escape_radius, close_distance, radii,
    ):  # fmt: skip
        n_groups = group_kind.shape[0]
        n_items = n_groups + alone.shape[0]
        counter = np.zeros(1, dtype=np.int64)
        pool = np.zeros(order.shape[0] + n_threads, dtype=np.int64)  # (each thread's last look goes past the end)
        pool_size = np.zeros(1, dtype=np.int64)
        pool_taken = np.zeros(1, dtype=np.int64)
        groups_left = np.full(1, n_groups, dtype=np.int64)
        for _worker in prange(n_threads):
            while True:
                item = take_next(counter)  # the next work item in the order given, to whichever thread is free
                if item >= n_items:
                    break
                if n_first <= item < n_first + n_groups:
                    group = item - n_first
                    _advance_group(
                        lanes_mask, n_bodies, group_kind[group], order[starts[group] : starts[group + 1]], restart, param, t_target,
                        max_steps, m, x, v, eps2, work, t, steps, evals, status, body, energies, t_coll, min_active, pool,
                        pool_size, escape_radius, close_distance,
                    )  # fmt: skip
                    fetch_add(groups_left, 0, -1)
                else:
                    system = alone[item if item < n_first else item - n_groups]
                    _run_system(
                        menu_mask, system, False, restart, kind, param, t_target, max_steps, m, x, v, eps2, work, sizes, t, steps,
                        evals, status, body, escape_radius, close_distance, radii,
                    )  # fmt: skip
                    observe(system, m, x, v, eps2, energies, t_coll)
            while True:
                system = _pooled(pool, take_next(pool_taken), groups_left)
                if system < 0:
                    break
                _run_system(
                    menu_mask, system, True, restart, kind, param, t_target, max_steps, m, x, v, eps2, work, sizes, t, steps, evals,
                    status, body, escape_radius, close_distance, radii,
                )  # fmt: skip
                observe(system, m, x, v, eps2, energies, t_coll)

    return kernel


class BatchEngine:
    """``B`` systems of ``N`` bodies, each integrated with one of a menu of steppers, interval by interval.

    Parameters
    ----------
    menu
        The steppers a system may use (:meth:`~nbody.integrators.settings.IntegratorSettings.stepper`); steppers with the same step
        function share one entry (only the parameter differs, and it is given per call).
    n_systems, n_bodies
        ``B`` and ``N``.
    min_active
        Systems of a step function with a lane step (:mod:`nbody.lockstep`) are stepped in lock step,
        :data:`~nbody.lanes.LANES` at a time, while at least this many lanes are busy; more than
        :data:`~nbody.lanes.LANES` turns lock step off (every system runs alone; the results are the same), and the
        kernel is compiled without the lane steps (a third to two thirds less to compile).

    Attributes
    ----------
    masses, positions, velocities, eps2
        ``(B, N)``, ``(B, N, 3)``, ``(B, N, 3)`` and ``(B,)``: the states, updated in place.
    t
        ``(B,)`` time of each system.
    kinds
        The menu: its distinct step functions as ``(step code, integrator code)``, in the order of their codes.
    kind
        ``(B,)`` the menu entry (index into :attr:`kinds`) each system's integrator is.
    n_steps, n_force_evals, status, event_body
        ``(B,)`` of the last :meth:`advance` of each system: its steps, force evaluations (a restart's
        included), status code (:class:`~nbody.time_loop.Status`) and the body of its event (the escaping body, or
        ``i * N + j`` for a close pair or a collision of ``i`` and ``j``; -1 without).
    energy, collision_time
        ``(B,)`` total energy and collision time (:func:`~nbody.forces.collision_time`) of each state after the
        last :meth:`advance` or :meth:`load`.
    """

    def __init__(self, menu: Sequence[Stepper], n_systems: int, n_bodies: int, min_active: int = MIN_ACTIVE) -> None:
        if not menu:
            raise ValueError("the menu of a batch engine needs at least one stepper")
        menu_mask = sum({1 << stepper.code for stepper in menu})
        self.kinds = menu_kinds(menu_mask)
        sizes = {(stepper.code, stepper.module_code): stepper.work_size(n_bodies) for stepper in menu}
        self._sizes = np.array([sizes[kind] for kind in self.kinds])
        self.masses = np.zeros((n_systems, n_bodies))
        self.positions = np.zeros((n_systems, n_bodies, 3))
        self.velocities = np.zeros((n_systems, n_bodies, 3))
        self.eps2 = np.zeros(n_systems)
        self.work = np.zeros((n_systems, int(self._sizes.max())))
        self.t = np.zeros(n_systems)
        self.kind = np.zeros(n_systems, dtype=np.int64)
        self.n_steps = np.zeros(n_systems, dtype=np.int64)
        self.n_force_evals = np.zeros(n_systems, dtype=np.int64)
        self.status = np.zeros(n_systems, dtype=np.int64)
        self.event_body = np.full(n_systems, -1, dtype=np.int64)
        self.energy = np.zeros(n_systems)
        self.collision_time = np.zeros(n_systems)
        self._kernel = _kernel(menu_mask, n_bodies, min_active <= LANES)
        self._laned = np.zeros(len(self.kinds), dtype=bool)
        self._laned[list(lane_entries(menu_mask, n_bodies))] = True
        self.min_active = min_active

    @property
    def n_systems(self) -> int:
        """``B``."""
        return self.t.shape[0]

    def kind_of(self, stepper: Stepper) -> int:
        """The menu entry of ``stepper`` (a ``ValueError`` if it is not on the menu)."""
        return self.kinds.index((stepper.code, stepper.module_code))

    def lanes_of(self, stepper: Stepper) -> bool:
        """Whether systems of ``stepper`` are stepped in lock step (its step function has a lane step, and lock step is on)."""
        return bool(self._laned[self.kind_of(stepper)]) and self.min_active <= LANES

    def load(self, system: int, masses: np.ndarray, positions: np.ndarray, velocities: np.ndarray, softening: float, t: float) -> None:
        """Put a state into slot ``system`` (its integrator must be restarted by the next :meth:`advance`)."""
        self.masses[system] = masses
        self.positions[system] = positions
        self.velocities[system] = velocities
        self.eps2[system] = softening**2
        self.t[system] = t
        observe(system, self.masses, self.positions, self.velocities, self.eps2, self.energy, self.collision_time)

    def advance(
        self,
        systems: np.ndarray,
        kind: np.ndarray,
        parameter: np.ndarray,
        t_target: np.ndarray,
        restart: np.ndarray,
        max_steps: int = 100_000_000,
        escape_radius: float = 0.0,
        close_encounter: float = 0.0,
        radii: np.ndarray | None = None,
    ) -> None:
        """Advance ``systems`` (indices) in one compiled call, in parallel.

        Parameters
        ----------
        systems
            Indices of the systems to advance; the others are left as they are.
        kind, parameter, t_target, restart
            ``(B,)``, read at ``systems``: the menu entry to integrate with, its parameter, the time to reach, and
            whether to (re)start the integrator from the current state first (required when ``kind`` changes or
            after :meth:`load`). A system with ``t_target <= t`` is only restarted.
        max_steps
            Integrator steps allowed to each system in this call.
        escape_radius, close_encounter, radii
            The events of :func:`nbody.time_loop.advance` (0 and None turn them off): a system stops after the step
            in which a body escapes past ``escape_radius`` or a pair comes closer than ``close_encounter``, or at the
            contact of two bodies of ``radii`` (``(N,)``; the systems then run one by one, without lock step).
        """
        systems = np.ascontiguousarray(systems, dtype=np.int64)
        self.kind[systems] = kind[systems]
        alone, n_first, order, starts, group_kind = self._work_items(systems, radii is None)
        self._kernel(
            alone, n_first, order, starts, group_kind, np.asarray(restart, dtype=np.bool_), self.kind,
            np.asarray(parameter, dtype=np.float64), np.asarray(t_target, dtype=np.float64), max_steps,
            self.masses, self.positions, self.velocities, self.eps2, self.work, self._sizes, self.t,
            self.n_steps, self.n_force_evals, self.status, self.event_body, self.energy, self.collision_time, self.min_active,
            numba.get_num_threads(), float(escape_radius), float(close_encounter), radii,
        )  # fmt: skip

    def _work_items(self, systems: np.ndarray, lock_step: bool = True) -> tuple[np.ndarray, int, np.ndarray, np.ndarray, np.ndarray]:
        """The kernel's work items: ``(alone, n_first, order, starts, group_kind)``, handed to the threads in the order
        ``alone[:n_first]``, the groups, ``alone[n_first:]``, each part the longest first by the systems' steps in
        their last call (a group's: its systems' sum). The systems of an entry with a lane step are dealt round-robin
        into one group per thread (fewer when they fill fewer lane sets). A system in a close encounter takes most of
        a call's steps (up to half of 64 systems' steps): in a group it would leave the other lanes idle, and its last
        steps, alone, bound the call on any number of threads. So, on more than one thread, a system whose last call
        took more than :data:`HEAVY_SHARE` of the steps of every system asked for runs alone from the start, ahead of
        the groups, beside them. Without ``lock_step`` every system runs alone."""
        kinds = self.kind[systems]
        laned = self._laned[kinds] if lock_step and self.min_active <= LANES else np.zeros(systems.shape[0], dtype=bool)
        heavy: list[np.ndarray] = []
        groups: list[np.ndarray] = []
        group_kind: list[int] = []
        bound = HEAVY_SHARE * self.n_steps[systems].sum() if numba.get_num_threads() > 1 else np.inf
        for entry in np.unique(kinds[laned]):
            members = self._longest_first(systems[kinds == entry])
            alone_now = self.n_steps[members] > bound
            heavy.append(members[alone_now])
            members = members[~alone_now]
            count = min(numba.get_num_threads(), -(-members.shape[0] // LANES))
            groups += [members[first::count] for first in range(count)]
            group_kind += [int(entry)] * count
        by_work = sorted(range(len(groups)), key=lambda g: -int(self.n_steps[groups[g]].sum()))  # the longest first
        groups, group_kind = [groups[g] for g in by_work], [group_kind[g] for g in by_work]
        starts = np.cumsum([0, *(group.shape[0] for group in groups)])
        order = np.concatenate(groups) if groups else np.empty(0, dtype=np.int64)
        first = self._longest_first(np.concatenate([np.empty(0, dtype=np.int64), *heavy]))
        alone = np.concatenate([first, self._longest_first(systems[~laned])])
        return alone, first.shape[0], order, starts.astype(np.int64), np.array(group_kind, dtype=np.int64)

    def _longest_first(self, systems: np.ndarray) -> np.ndarray:
        """``systems`` by their steps in the last call, the most first (ties in the given order)."""
        return systems[np.argsort(-self.n_steps[systems], kind="stable")]
