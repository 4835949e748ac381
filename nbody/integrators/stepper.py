"""An integrator resolved to one step function and its parameter (:func:`resolve`), from the table of
:mod:`nbody.integrators.table`."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from adaptsim.errors import CaseError
from nbody.integrators.table import BY_NAME, CRITERIA, INTEGRATOR_NAMES, PARAMETER_LIMITS, STEP_TABLE


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
    """Step parameter ``name`` (``eta``, ``tol`` or ``dt``) as a float: a :class:`CaseError` unless it is a finite
    number > 0 and at most its limit (:data:`~nbody.integrators.table.PARAMETER_LIMITS`)."""
    if not (isinstance(value, (int, float)) and value == value and 0.0 < value < float("inf")):
        raise CaseError(f"must be a finite number > 0, got {value!r}", field=(name,))
    if value > PARAMETER_LIMITS[name]:
        raise CaseError(f"must be at most {PARAMETER_LIMITS[name]:g}, got {value!r}", field=(name,))
    return float(value)


def natural_parameter(integrator: str) -> str:
    """The adaptive parameter an integrator takes besides a fixed ``dt``: ``eta`` or ``tol``."""
    return BY_NAME[integrator].parameter


def resolve(
    integrator: str,
    *,
    eta: float | None = None,
    dt: float | None = None,
    tol: float | None = None,
    criterion: str = "aarseth",
) -> Stepper:
    """Pick the step function of an integrator from the parameter given.

    A fixed ``dt`` selects the fixed-step variant of any integrator. Otherwise Hermite and
    leapfrog take ``eta`` and the Runge-Kutta and IAS15 integrators take ``tol``; with nothing
    given, the defaults are Hermite ``eta=0.02``, leapfrog ``dt=1e-3``, ``rk`` ``tol=1e-10`` and
    IAS15 ``tol=1e-9`` (REBOUND's default).

    Raises
    ------
    CaseError
        For an unknown integrator or criterion, a parameter the integrator does not take, more than
        one parameter, or a parameter that is not a finite positive number or is past its limit
        (:data:`~nbody.integrators.table.PARAMETER_LIMITS`).
    """
    if integrator not in BY_NAME:
        raise CaseError(f"unknown integrator {integrator!r}; one of {', '.join(INTEGRATOR_NAMES)}", field=("integrator",))
    if criterion not in CRITERIA:
        raise CaseError(f"unknown step criterion {criterion!r}; one of {', '.join(CRITERIA)}", field=("criterion",))
    given = {name: value for name, value in (("eta", eta), ("dt", dt), ("tol", tol)) if value is not None}
    if len(given) > 1:
        raise CaseError(f"give one of eta, dt, tol, not {' and '.join(given)}", field=(sorted(given)[0],))
    entry = BY_NAME[integrator]
    name, value = next(iter(given.items())) if given else entry.default
    value = check_parameter(name, value)
    if name == "dt":
        function = "step_fixed"
    elif name == entry.parameter:
        variants = dict(entry.adaptive)
        function = variants.get(criterion, entry.adaptive[0][1])
    else:
        raise CaseError(f"integrator {integrator!r} takes {entry.parameter} or dt, not {name}", field=(name,))
    module = importlib.import_module(f"nbody.integrators.{entry.module}")
    return Stepper(
        name=integrator,
        module=module,
        step=getattr(module, function),
        code=STEP_TABLE.index((integrator, function)),
        parameter_name=name,
        parameter=float(value),
    )
