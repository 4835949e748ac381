"""The integrators, behind one step signature.

Every integrator module provides ``work_size(n)``, ``init(x, v, m, eps2, work) -> force evaluations``
and step functions ``step(x, v, m, eps2, param, dt_max, work) -> (dt taken, force evaluations)``
that advance ``x, v`` in place by at most ``dt_max``. ``param`` is the integrator's accuracy
parameter: ``eta`` (Hermite, adaptive leapfrog), ``tol`` (Dormand-Prince, IAS15) or a fixed ``dt``.
The time loop (:mod:`nbody.simulate`) and the RL environments call these same functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from adaptsim.errors import CaseError
from nbody._jit import jit
from nbody.integrators import dopri5, hermite, ias15, leapfrog

#: Names accepted by ``simulate.integrate(integrator=...)``.
INTEGRATOR_NAMES = ("hermite", "leapfrog", "rk", "ias15")
#: Step criteria of the Hermite integrator.
HERMITE_CRITERIA = ("aarseth", "collision")


#: Every step function, numbered: the compiled loop dispatches on the number, so it can be cached
#: (Numba cannot cache functions that take other compiled functions as arguments).
STEP_FUNCTIONS = (
    hermite.step_aarseth,
    hermite.step_collision,
    hermite.step_fixed,
    leapfrog.step_fixed,
    leapfrog.step_adaptive,
    dopri5.step_adaptive,
    dopri5.step_fixed,
    ias15.step_adaptive,
    ias15.step_fixed,
)
_MODULE_CODES = {"hermite": 0, "leapfrog": 1, "rk": 2, "ias15": 3}


@jit
def step(code, x, v, m, eps2, param, dt_max, work):
    """Call step function number ``code`` of :data:`STEP_FUNCTIONS`; returns ``(dt taken, force evaluations)``."""
    if code == 0:
        return hermite.step_aarseth(x, v, m, eps2, param, dt_max, work)
    if code == 1:
        return hermite.step_collision(x, v, m, eps2, param, dt_max, work)
    if code == 2:
        return hermite.step_fixed(x, v, m, eps2, param, dt_max, work)
    if code == 3:
        return leapfrog.step_fixed(x, v, m, eps2, param, dt_max, work)
    if code == 4:
        return leapfrog.step_adaptive(x, v, m, eps2, param, dt_max, work)
    if code == 5:
        return dopri5.step_adaptive(x, v, m, eps2, param, dt_max, work)
    if code == 6:
        return dopri5.step_fixed(x, v, m, eps2, param, dt_max, work)
    if code == 7:
        return ias15.step_adaptive(x, v, m, eps2, param, dt_max, work)
    return ias15.step_fixed(x, v, m, eps2, param, dt_max, work)


@jit
def init(module_code, x, v, m, eps2, work):
    """Call the ``init`` of integrator module ``module_code`` (hermite 0, leapfrog 1, rk 2, ias15 3)."""
    if module_code == 0:
        return hermite.init(x, v, m, eps2, work)
    if module_code == 1:
        return leapfrog.init(x, v, m, eps2, work)
    if module_code == 2:
        return dopri5.init(x, v, m, eps2, work)
    return ias15.init(x, v, m, eps2, work)


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
        Its index in :data:`STEP_FUNCTIONS` (what the compiled loop takes).
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
        """Number of the integrator module, as :func:`init` takes it."""
        return _MODULE_CODES[self.name]

    def work_size(self, n_bodies: int) -> int:
        """Length of the work array for ``n_bodies``."""
        return self.module.work_size(n_bodies)


def natural_parameter(integrator: str) -> str:
    """The adaptive parameter an integrator takes besides a fixed ``dt``: ``eta`` or ``tol``."""
    return "eta" if integrator in ("hermite", "leapfrog") else "tol"


_DEFAULTS = {"hermite": ("eta", 0.02), "leapfrog": ("dt", 1e-3), "rk": ("tol", 1e-10), "ias15": ("tol", 1e-9)}
_MODULES = {"hermite": hermite, "leapfrog": leapfrog, "rk": dopri5, "ias15": ias15}


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
        one parameter, or a parameter that is not a finite positive number.
    """
    if integrator not in _MODULES:
        raise CaseError(f"unknown integrator {integrator!r}; one of {', '.join(INTEGRATOR_NAMES)}", field=("integrator",))
    if criterion not in HERMITE_CRITERIA:
        raise CaseError(f"unknown step criterion {criterion!r}; one of {', '.join(HERMITE_CRITERIA)}", field=("criterion",))
    given = {name: value for name, value in (("eta", eta), ("dt", dt), ("tol", tol)) if value is not None}
    if len(given) > 1:
        raise CaseError(f"give one of eta, dt, tol, not {' and '.join(given)}", field=(sorted(given)[0],))
    name, value = next(iter(given.items())) if given else _DEFAULTS[integrator]
    if not (isinstance(value, (int, float)) and value == value and 0.0 < value < float("inf")):
        raise CaseError(f"must be a finite number > 0, got {value!r}", field=(name,))
    module = _MODULES[integrator]
    if name == "dt":
        step = module.step_fixed
    elif integrator == "hermite" and name == "eta":
        step = hermite.step_aarseth if criterion == "aarseth" else hermite.step_collision
    elif integrator == "leapfrog" and name == "eta":
        step = leapfrog.step_adaptive
    elif integrator in ("rk", "ias15") and name == "tol":
        step = module.step_adaptive
    else:
        raise CaseError(f"integrator {integrator!r} takes {natural_parameter(integrator)} or dt, not {name}", field=(name,))
    return Stepper(name=integrator, module=module, step=step, code=STEP_FUNCTIONS.index(step), parameter_name=name, parameter=float(value))
