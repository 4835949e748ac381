"""Many independent systems advanced side by side, interval by interval, each with its own integrator and parameter.

A :class:`BatchEngine` holds the states, integrator work spaces, times and counters of ``B`` systems of ``N``
bodies. One call of :meth:`BatchEngine.advance` runs one compiled, ``parallel=True`` kernel over the systems
asked for: each may first (re)start an integrator of the engine's menu from its current state, then runs the
same compiled time loop as :class:`~nbody.simulate.Simulation` (:func:`~nbody.time_loop.advance`) to its own
target time with its own parameter. The kernel also returns each system's total energy and collision time, so a
vector environment needs no other pass over the states.

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

from nbody._jit import jit, jit_inline, parallel_jit
from nbody.forces import collision_time, kinetic_energy, potential_energy
from nbody.integrators.dispatch import init
from nbody.integrators.stepper import Stepper
from nbody.integrators.table import INTEGRATOR_NAMES, STEP_TABLE
from nbody.time_loop import advance

#: One step function of a menu: ``(step code, integrator code)`` as :class:`~nbody.integrators.stepper.Stepper` has them.
Kind = tuple[int, int]


def _kind_runner(code: int, module_code: int) -> Callable[..., Any]:
    """(Re)start integrator ``module_code`` if asked, then run the time loop of step function ``code``."""

    @jit_inline
    def run(kind, restart, x, v, m, eps2, param, work, t, t_target, max_steps):
        spent = 0
        if restart:
            work[:] = 0.0
            spent = init(module_code, x, v, m, eps2, work)
        t, steps, evals, status, _, _ = advance(
            code, x, v, m, eps2, param, work, t, t_target, max_steps, 0.0, 0.0, None,
            np.empty(0), np.empty((0, 1, 3)), np.empty((0, 1, 3)), 0,
        )  # fmt: skip
        return t, steps, spent + evals, status

    return run


def _menu_runner(kinds: tuple[Kind, ...]) -> Callable[..., Any]:
    """The runner of ``kinds[kind]`` for a run-time ``kind``: a chain of branches, each on one compile-time code."""
    first = _kind_runner(*kinds[0])
    if len(kinds) == 1:
        return first
    rest = _menu_runner(kinds[1:])

    @jit_inline
    def run(kind, restart, x, v, m, eps2, param, work, t, t_target, max_steps):
        if kind == 0:
            return first(kind, restart, x, v, m, eps2, param, work, t, t_target, max_steps)
        return rest(kind - 1, restart, x, v, m, eps2, param, work, t, t_target, max_steps)

    return run


def menu_kinds(menu_mask: int) -> tuple[Kind, ...]:
    """The step functions of a menu given as a bit mask of step codes, in the order of their codes."""
    return tuple((code, INTEGRATOR_NAMES.index(name)) for code, (name, _) in enumerate(STEP_TABLE) if menu_mask >> code & 1)


def run_menu(menu_mask, kind, restart, x, v, m, eps2, param, work, t, t_target, max_steps):
    """Compiled code only: (re)start and advance one system with entry ``kind`` of the menu ``menu_mask`` (a
    compile-time bit mask of step codes; the compiled kernel's cache key is then that number alone)."""
    raise NotImplementedError("run_menu is called from compiled code only")


@overload(run_menu, inline="always")
def _run_menu_compiled(menu_mask, kind, restart, x, v, m, eps2, param, work, t, t_target, max_steps):
    if not isinstance(menu_mask, types.IntegerLiteral):
        raise TypingError(f"the menu must be a compile-time constant, got {menu_mask}")
    run = _menu_runner(menu_kinds(menu_mask.literal_value))

    def call(menu_mask, kind, restart, x, v, m, eps2, param, work, t, t_target, max_steps):
        return run(kind, restart, x, v, m, eps2, param, work, t, t_target, max_steps)

    return call


@jit
def _advance_system(
    menu_mask, s, restart, kind, param, t_target, max_steps, m, x, v, eps2, work, sizes, t, steps, evals, status, energies, t_coll
):
    """System ``s`` of the kernel's arrays: :func:`run_menu`, then its energy and collision time. (A compiled
    function of its own: inlined into the parallel loop, the integrators ran up to 30 % slower.)"""
    k = kind[s]
    t[s], steps[s], evals[s], status[s] = run_menu(
        menu_mask, k, restart[s], x[s], v[s], m[s], eps2[s], param[s], work[s, : sizes[k]], t[s], t_target[s], max_steps
    )
    energies[s] = kinetic_energy(m[s], v[s]) + potential_energy(m[s], x[s], eps2[s])
    t_coll[s] = collision_time(m[s], x[s], v[s], eps2[s])


@functools.cache
def _kernel(menu_mask: int) -> Callable[..., None]:
    """The parallel kernel of a menu of step functions (one compilation per menu, kept on disk)."""

    @parallel_jit
    def kernel(systems, restart, kind, param, t_target, max_steps, m, x, v, eps2, work, sizes, t, steps, evals, status, energies, t_coll):
        for index in prange(systems.shape[0]):
            _advance_system(
                menu_mask, systems[index], restart, kind, param, t_target, max_steps, m, x, v, eps2, work, sizes, t, steps,
                evals, status, energies, t_coll,
            )  # fmt: skip

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
    n_steps, n_force_evals, status
        ``(B,)`` of the last :meth:`advance` of each system: its steps, force evaluations (a restart's
        included) and status code (:class:`~nbody.time_loop.Status`).
    energy, collision_time
        ``(B,)`` total energy and collision time (:func:`~nbody.forces.collision_time`) of each state after the
        last :meth:`advance` or :meth:`load`.
    """

    def __init__(self, menu: Sequence[Stepper], n_systems: int, n_bodies: int) -> None:
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
        self.energy = np.zeros(n_systems)
        self.collision_time = np.zeros(n_systems)
        self._kernel = _kernel(menu_mask)

    @property
    def n_systems(self) -> int:
        """``B``."""
        return self.t.shape[0]

    def kind_of(self, stepper: Stepper) -> int:
        """The menu entry of ``stepper`` (a ``ValueError`` if it is not on the menu)."""
        return self.kinds.index((stepper.code, stepper.module_code))

    def load(self, system: int, masses: np.ndarray, positions: np.ndarray, velocities: np.ndarray, softening: float, t: float) -> None:
        """Put a state into slot ``system`` (its integrator must be restarted by the next :meth:`advance`)."""
        self.masses[system] = masses
        self.positions[system] = positions
        self.velocities[system] = velocities
        self.eps2[system] = softening**2
        self.t[system] = t
        self.energy[system] = kinetic_energy(self.masses[system], self.velocities[system]) + potential_energy(
            self.masses[system], self.positions[system], self.eps2[system]
        )
        self.collision_time[system] = collision_time(
            self.masses[system], self.positions[system], self.velocities[system], self.eps2[system]
        )

    def advance(
        self,
        systems: np.ndarray,
        kind: np.ndarray,
        parameter: np.ndarray,
        t_target: np.ndarray,
        restart: np.ndarray,
        max_steps: int = 100_000_000,
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
        """
        self.kind[systems] = kind[systems]
        with numba.parallel_chunksize(1):  # systems differ in cost: hand them out one at a time
            self._kernel(
                np.ascontiguousarray(systems, dtype=np.int64), np.asarray(restart, dtype=np.bool_), self.kind,
                np.asarray(parameter, dtype=np.float64), np.asarray(t_target, dtype=np.float64), max_steps,
                self.masses, self.positions, self.velocities, self.eps2, self.work, self._sizes, self.t,
                self.n_steps, self.n_force_evals, self.status, self.energy, self.collision_time,
            )  # fmt: skip
