"""Dispatch over the step functions of :mod:`.table`, resolved when the caller is compiled.

``step(code, ...)`` and ``init(module_code, ...)`` are plain functions in Python. In compiled code the number
must be a compile-time constant (a literal, or an argument of a caller compiled for one value, as
:func:`nbody.time_loop.compiled_loop` does): Numba's typing then picks the one function of that number and
inlines the call, so a compiled loop contains, and compiles, only the integrator it runs. A dispatch on a
run-time number would compile every integrator into every loop (1 min 40 s of compilation for the first run of
the quick start, of which the integrator it used needed 10 s).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import Any

from numba import types
from numba.core.errors import TypingError
from numba.extending import overload

from nbody._jit import inlined_twin
from nbody.integrators.table import BY_NAME, INTEGRATORS, STEP_TABLE


def _function(module: str, name: str) -> Callable[..., Any]:
    return getattr(importlib.import_module(f"nbody.integrators.{module}"), name)


def _lane_step(module: str, function: str) -> Callable[..., Any] | None:
    """``lane_<function>`` of the integrator's module, or of its ``<module>_lanes`` where the lane steps are a module
    of their own (IAS15's); None when there is none."""
    for name in (module, f"{module}_lanes"):
        if importlib.util.find_spec(f"nbody.integrators.{name}") is not None:
            found = getattr(importlib.import_module(f"nbody.integrators.{name}"), f"lane_{function}", None)
            if found is not None:
                return found
    return None


#: The compiled step functions, numbered as :data:`~nbody.integrators.table.STEP_TABLE`.
STEP_FUNCTIONS: tuple[Callable[..., Any], ...] = tuple(_function(BY_NAME[name].module, function) for name, function in STEP_TABLE)
#: Integrators whose step functions the time loop without collisions inlines (:func:`step_inlined`): a Hermite step
#: takes about 110-125 ns, and the call, its arguments and its returned tuple cost about 12 % of it (9.05-9.32 against
#: 8.03-8.13 M steps/s on the figure-eight, docs/nbody.md). Inlined into the loop with collisions, whose branches Numba prunes, its loops trip Numba's IR
#: checks (``NumbaIRAssumptionWarning``), so that loop calls them (:func:`step`).
INLINED = ("hermite",)
#: :data:`STEP_FUNCTIONS`, those of :data:`INLINED` as inlined twins.
INLINED_STEP_FUNCTIONS: tuple[Callable[..., Any], ...] = tuple(
    inlined_twin(function) if name in INLINED else function for (name, _), function in zip(STEP_TABLE, STEP_FUNCTIONS, strict=True)
)
#: The compiled ``init`` of each integrator, numbered as :data:`~nbody.integrators.table.INTEGRATORS`.
INIT_FUNCTIONS: tuple[Callable[..., Any], ...] = tuple(_function(entry.module, "init") for entry in INTEGRATORS)
#: The lane steps (:mod:`nbody.lanes`) of the step functions that have one (``lane_<step function>`` in the module or
#: its ``_lanes`` module), by
#: step code: each builds, for a number of bodies and the length of the work array, a :class:`~nbody.lanes.LaneStep`.
LANE_STEPS: dict[int, Callable[..., Any]] = {
    code: lane_step for code, (name, function) in enumerate(STEP_TABLE) if (lane_step := _lane_step(BY_NAME[name].module, function))
}


def work_size(module_code: int, n: int) -> int:
    """Length of the work array of integrator number ``module_code`` for ``n`` bodies."""
    return _function(INTEGRATORS[module_code].module, "work_size")(n)


def step(code, x, v, m, eps2, param, dt_max, work):
    """Call step function number ``code`` of :data:`~nbody.integrators.table.STEP_TABLE`; returns ``(dt taken, force evaluations)``."""
    return STEP_FUNCTIONS[code](x, v, m, eps2, param, dt_max, work)


def step_inlined(code, x, v, m, eps2, param, dt_max, work):
    """:func:`step`, with the step functions of :data:`INLINED` inlined into the compiled caller."""
    return INLINED_STEP_FUNCTIONS[code](x, v, m, eps2, param, dt_max, work)


def init(module_code, x, v, m, eps2, work):
    """Call the ``init`` of integrator number ``module_code`` of :data:`~nbody.integrators.table.INTEGRATORS`; returns force evaluations."""
    return INIT_FUNCTIONS[module_code](x, v, m, eps2, work)


def _constant(number: Any, functions: tuple[Callable[..., Any], ...], what: str) -> Callable[..., Any]:
    """The function a compile-time ``number`` names; a clear typing error for a run-time one."""
    if not isinstance(number, types.IntegerLiteral):
        raise TypingError(f"{what} must be a compile-time constant (compile the caller for one integrator), got {number}")
    value = number.literal_value
    if not 0 <= value < len(functions):
        raise TypingError(f"{what} {value} is not in 0..{len(functions) - 1}")
    return functions[value]


def _step_overload(functions: tuple[Callable[..., Any], ...]) -> Callable[..., Any]:
    """The compiled implementation of a dispatch over ``functions`` (:func:`step`, :func:`step_inlined`)."""

    def compiled(code, x, v, m, eps2, param, dt_max, work):
        function = _constant(code, functions, "step code")

        def call(code, x, v, m, eps2, param, dt_max, work):
            return function(x, v, m, eps2, param, dt_max, work)

        return call

    return compiled


overload(step, inline="always")(_step_overload(STEP_FUNCTIONS))
overload(step_inlined, inline="always")(_step_overload(INLINED_STEP_FUNCTIONS))


@overload(init, inline="always")
def _init_compiled(module_code, x, v, m, eps2, work):
    function = _constant(module_code, INIT_FUNCTIONS, "integrator code")

    def call(module_code, x, v, m, eps2, work):
        return function(x, v, m, eps2, work)

    return call
