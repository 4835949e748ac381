"""The high-fidelity model: incremental Newton-Raphson with the consistent tangent on the full mesh.

:class:`MechanicalProblem` holds what is solved (space, material, constraints, loads, temperature);
:class:`HifiSolver` solves one increment (with automatic cutting when Newton or the constitutive
update fails) or a whole load history, and hands each converged increment to a callback, which is
how snapshots and VTU files are written and how the online ROM calls one high-fidelity step.
"""

from __future__ import annotations

import math
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from adaptsim.errors import RunError
from adaptsim.launch import serial_blas
from adaptsim.progress import log
from rom.fem.assembly import FreeDofAssembler
from rom.fem.linear import LinearSolveFailure, Solve, linear_solver
from rom.interfaces import ConstitutiveLaw, DisplacementSpace
from rom.materials import LocalConvergenceError, MaterialState

#: ``external_force(t) -> (n_dofs,)`` and ``temperature(t) -> nodal temperatures (n_nodes,)``.
ForceHistory = Callable[[float], np.ndarray]
TemperatureHistory = Callable[[float], np.ndarray]


#: The assemblers built so far, per space and set of free dofs (see :func:`free_dof_assembler`).
_ASSEMBLERS: weakref.WeakKeyDictionary[DisplacementSpace, dict[bytes, FreeDofAssembler]] = weakref.WeakKeyDictionary()


def free_dof_assembler(space: DisplacementSpace, free: np.ndarray) -> FreeDofAssembler:
    """The :class:`FreeDofAssembler` of ``space``'s elements for the free dofs ``free``, built once per space and mask
    while the space lives: building its sparse pattern takes 0.4 s at 25k dofs, and a campaign builds
    a problem per loading on one space."""
    built = _ASSEMBLERS.setdefault(space, {})
    key = np.packbits(free).tobytes()
    if key not in built:
        built[key] = FreeDofAssembler(space.dofs, free)
    return built[key]


@dataclass
class MechanicalProblem:
    """A quasi-static small-strain problem on a displacement space (:class:`rom.interfaces.DisplacementSpace`).

    Parameters
    ----------
    space
        Displacement space.
    material
        Constitutive law.
    constrained
        Boolean mask (n_dofs,) of the degrees of freedom with prescribed displacement.
    external_force
        Nodal forces at time ``t``.
    temperature
        Nodal temperatures at time ``t`` (K).
    """

    space: DisplacementSpace
    material: ConstitutiveLaw
    constrained: np.ndarray
    external_force: ForceHistory
    temperature: TemperatureHistory

    def __post_init__(self) -> None:
        self.free = ~np.asarray(self.constrained, dtype=bool)

    @cached_property
    def assembler(self) -> FreeDofAssembler:
        """The assembler of the tangent of the free dofs, built at the first assembly (under MPI the whole mesh's
        problem never assembles: each rank's share does, and the whole pattern would cost every rank n's memory)."""
        return free_dof_assembler(self.space, self.free)

    def temperature_at_points(self, t: float) -> np.ndarray:
        """Temperatures at the integration points."""
        return self.space.at_points(self.temperature(t))


@dataclass
class Increment:
    """A converged increment: the state at ``time`` and how the solve went."""

    time: float
    displacement: np.ndarray
    state: MaterialState
    stress: np.ndarray
    temperature: np.ndarray
    newton_iterations: int
    cuts: int
    residual_history: list[float] = field(default_factory=list)


@dataclass
class TimingBreakdown:
    """Seconds spent in the constitutive update, the assembly and the linear solves."""

    constitutive: float = 0.0
    assembly: float = 0.0
    linear_solve: float = 0.0
    iterations: int = 0


class NewtonFailure(RuntimeError):
    """One Newton solve failed (the caller cuts the increment)."""


def solve_with_cuts(newton: Callable, previous, t: float, max_cuts: int, label: str):
    """Run ``newton(previous, t)``; when it raises :class:`NewtonFailure`, retry in 2, 4, ... equal pieces.

    ``previous`` and the results have ``time``, ``newton_iterations``, ``cuts`` and ``residual_history``.

    Raises
    ------
    RunError
        After ``max_cuts`` halvings.
    """
    for cuts in range(max_cuts + 1):
        pieces = 2**cuts
        current, iterations, history = previous, 0, []
        try:
            for k in range(1, pieces + 1):
                current = newton(current, previous.time + (t - previous.time) * k / pieces)
                iterations += current.newton_iterations
                history += current.residual_history
        except NewtonFailure as failure:
            reason = failure
            if cuts < max_cuts:
                log(f"{label} increment to t = {t:g} cut in {2 * pieces} pieces: {failure}")
            continue
        current.newton_iterations, current.cuts, current.residual_history = iterations, cuts, history
        return current
    raise RunError(f"the {label} solve failed at t = {t:g} after {max_cuts} increment cuts: {reason}")


class HifiSolver:
    """Incremental Newton-Raphson with the consistent tangent and automatic increment cutting.

    Parameters
    ----------
    problem
        What to solve.
    tolerance
        Relative residual ``||r_free|| / max(||f_ext||, ||f_int||, ||r_first||)`` at convergence.
    max_iterations
        Newton iterations before the increment is cut.
    max_cuts
        Halvings of an increment before giving up with a :class:`RunError`.
    solver
        Sparse direct solver: ``auto``, ``pardiso`` or ``superlu`` (:func:`rom.fem.linear.linear_solver`), or a
        solve function (``(tangent, residual) -> correction``, e.g. :class:`rom.fem.petsc_solve.PetscSolve`).
    """

    def __init__(
        self,
        problem: MechanicalProblem,
        tolerance: float = 1e-8,
        max_iterations: int = 15,
        max_cuts: int = 8,
        solver: str | Solve = "auto",
    ) -> None:
        self.problem = problem
        self.solve = linear_solver(solver) if isinstance(solver, str) else solver
        self.tolerance = tolerance
        self.max_iterations = max_iterations
        self.max_cuts = max_cuts
        self.timing = TimingBreakdown()

    def initial(self) -> Increment:
        """The unloaded state at time 0 (zero displacement, virgin material)."""
        space = self.problem.space
        zeros = np.zeros(space.n_points)
        return Increment(0.0, np.zeros(space.n_dofs), MaterialState.zeros(space.n_points), np.zeros((space.n_points, 6)), zeros, 0, 0)

    def newton(self, previous: Increment, t: float, guess: np.ndarray | None = None) -> Increment:
        """Solve the increment from ``previous`` to time ``t`` (no cutting), Newton started from the displacement
        ``guess`` at ``t`` (default: ``previous``'s).

        Raises
        ------
        NewtonFailure
            When Newton does not converge in ``max_iterations`` or the constitutive update fails.
        """
        with serial_blas():  # PARDISO's threads get the cores (see adaptsim.launch.serial_blas)
            return self._newton(previous, t, guess)

    def _newton(self, previous: Increment, t: float, guess: np.ndarray | None) -> Increment:
        problem, space = self.problem, self.problem.space
        dt = t - previous.time
        temperature = problem.temperature_at_points(t)
        coefficients = problem.material.coefficients(temperature)
        f_ext = problem.external_force(t)
        u = (previous.displacement if guess is None else guess).copy()
        history = []
        for iteration in range(1, self.max_iterations + 1):
            started = time.perf_counter()
            try:
                result = problem.material.update(space.strain(u), temperature, dt, previous.state, coefficients)
            except LocalConvergenceError as error:
                raise NewtonFailure(str(error)) from None
            f_int = space.internal_force(result.stress)
            self.timing.constitutive += time.perf_counter() - started
            out_of_balance = np.where(problem.free, f_int - f_ext, 0.0)
            residual = out_of_balance[problem.free]
            norm = space.norm(out_of_balance)
            history.append(norm)
            # scale: loads, internal forces (reactions included), or the first residual (thermal loading alone)
            reference = max(space.norm(f_ext), space.norm(f_int), history[0])
            if not math.isfinite(norm):
                raise NewtonFailure("non-finite residual")
            if norm <= self.tolerance * reference:
                return Increment(t, u, result.state, result.stress, temperature, iteration - 1, 0, history)
            started = time.perf_counter()
            matrix = problem.assembler.assemble(space.element_matrices(result.tangent))
            self.timing.assembly += time.perf_counter() - started
            started = time.perf_counter()
            try:
                u[problem.free] -= self.solve(matrix, residual)
            except LinearSolveFailure as failure:
                raise NewtonFailure(str(failure)) from None
            self.timing.linear_solve += time.perf_counter() - started
            self.timing.iterations += 1
        raise NewtonFailure(
            f"no convergence in {self.max_iterations} iterations (residual {history[-1]:.3g}, relative {history[-1] / reference:.3g})"
        )

    def step(self, previous: Increment, t: float, guess: np.ndarray | None = None) -> Increment:
        """Solve to time ``t``, splitting the increment in 2, 4, ... equal pieces when Newton fails (``max_cuts`` times).

        ``guess``: a displacement at ``t`` to start Newton from (an enriching ROM's own solution); the pieces of a cut
        increment start from the state before them.
        """

        def newton(start: Increment, time: float) -> Increment:
            return self.newton(start, time, guess if start is previous and time == t else None)

        return solve_with_cuts(newton, previous, t, self.max_cuts, "high-fidelity")

    def run(self, times: np.ndarray, callback: Callable[[int, Increment], None] | None = None, start: Increment | None = None) -> Increment:
        """Solve the increments ending at ``times`` (increasing, after ``start.time``); ``callback(index, increment)`` after each."""
        current = start if start is not None else self.initial()
        for index, t in enumerate(times):
            current = self.step(current, float(t))
            if callback is not None:
                callback(index, current)
        return current
