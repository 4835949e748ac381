"""An integrator resolved to one step function and its parameter (by its settings,
:meth:`nbody.integrators.settings.IntegratorSettings.stepper`), and the check of a step parameter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from nbody.errors import ArgumentError
from nbody.integrators.table import BY_NAME, INTEGRATOR_NAMES, PARAMETER_LIMITS


@dataclass(frozen=True)
class Stepper:
    """An integrator resolved to one step function and its parameter.

    Attributes
    ----------
    name
        Integrator name.
    module
        The integrator's module (``work_size``, ``init``).
    step
        The compiled step function.
    code
        Its index in :data:`~nbody.integrators.table.STEP_TABLE` (what the compiled loop takes).
    parameter_name
        ``"eta"``, ``"tol"`` or ``"dt"``.
    parameter
        Its value.
    """

    name: str
    module: ModuleType
    step: Callable[..., Any]
    code: int
    parameter_name: str
    parameter: float

    @property
    def module_code(self) -> int:
        """Number of the integrator in :data:`~nbody.integrators.table.INTEGRATORS`, as :func:`~nbody.integrators.dispatch.init` takes it."""
        return INTEGRATOR_NAMES.index(self.name)

    def work_size(self, n_bodies: int) -> int:
        """Length of the work array for ``n_bodies``."""
        return self.module.work_size(n_bodies)


def check_parameter(name: str, value: object) -> float:
    """Step parameter ``name`` (``eta``, ``tol`` or ``dt``) as a float: a :class:`~nbody.errors.ArgumentError` unless it is a finite
    number > 0 and at most its limit (:data:`~nbody.integrators.table.PARAMETER_LIMITS`)."""
    if not (isinstance(value, (int, float)) and value == value and 0.0 < value < float("inf")):
        raise ArgumentError(f"must be a finite number > 0, got {value!r}", (name,))
    if value > PARAMETER_LIMITS[name]:
        raise ArgumentError(f"must be at most {PARAMETER_LIMITS[name]:g}, got {value!r}", (name,))
    return float(value)


def natural_parameter(integrator: str) -> str:
    """The adaptive parameter an integrator takes besides a fixed ``dt``: ``eta`` or ``tol``."""
    return BY_NAME[integrator].parameter
