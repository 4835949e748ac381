"""One settings object per integrator (as REBOUND's ``sim.ri_ias15``): its accuracy parameter or a fixed step, and its
step criterion where it has several, validated when made and resolved once to a compiled step function.

``HermiteSettings(eta=1e-3, criterion="collision")``, ``IAS15Settings(tol=1e-9)``, ``LeapfrogSettings(dt=1e-3)``:
each class takes the adaptive parameter of its row of :mod:`nbody.integrators.table` (``eta`` or ``tol``) or a fixed
``dt``, at most one of them (none: the table's default). :meth:`IntegratorSettings.stepper` picks the step function;
:class:`~nbody.simulate.Simulation`, :func:`~nbody.simulate.integrate` and :func:`~nbody.batch.integrate_batch` take
a settings object whole, or an integrator's name and keyword parameters (:func:`settings_for`).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, fields
from typing import ClassVar

from nbody.errors import ArgumentError
from nbody.integrators.stepper import Stepper, check_parameter
from nbody.integrators.table import BY_NAME, CRITERIA, INTEGRATOR_NAMES, STEP_TABLE, CriterionName


def check_criterion(criterion: object) -> None:
    """An :class:`~nbody.errors.ArgumentError` unless ``criterion`` is one of :data:`~nbody.integrators.table.CRITERIA`."""
    if criterion not in CRITERIA:
        raise ArgumentError(f"unknown step criterion {criterion!r}; one of {', '.join(CRITERIA)}", ("criterion",))


@dataclass(frozen=True, kw_only=True)
class IntegratorSettings:
    """The settings of one integrator (a subclass per integrator; see the module docstring).

    Attributes
    ----------
    dt
        A fixed step: the integrator's fixed-step variant (None: adaptive).
    """

    #: The integrator's name in :data:`~nbody.integrators.table.INTEGRATOR_NAMES`.
    integrator: ClassVar[str]
    dt: float | None = None

    def __post_init__(self) -> None:
        given = {name: getattr(self, name) for name in self.parameter_names() if getattr(self, name) is not None}
        if len(given) > 1:
            raise ArgumentError(f"give one of {', '.join(self.parameter_names())}, not {' and '.join(given)}", (sorted(given)[0],))
        for name, value in given.items():
            object.__setattr__(self, name, check_parameter(name, value))

    @classmethod
    def parameter_names(cls) -> tuple[str, str]:
        """The adaptive parameter (``eta`` or ``tol``) and ``dt``."""
        return BY_NAME[cls.integrator].parameter, "dt"

    @property
    def parameter_name(self) -> str:
        """The parameter in use: the one given, else the table's default."""
        given = [name for name in self.parameter_names() if getattr(self, name) is not None]
        return given[0] if given else BY_NAME[self.integrator].default[0]

    @property
    def parameter(self) -> float:
        """Its value."""
        value = getattr(self, self.parameter_name)
        return float(BY_NAME[self.integrator].default[1] if value is None else value)

    def step_function(self) -> str:
        """The name of the step function in the integrator's module."""
        return "step_fixed" if self.parameter_name == "dt" else BY_NAME[self.integrator].adaptive[0][1]

    def stepper(self) -> Stepper:
        """The compiled step function and its parameter."""
        entry = BY_NAME[self.integrator]
        module = importlib.import_module(f"nbody.integrators.{entry.module}")
        function = self.step_function()
        return Stepper(
            name=self.integrator,
            module=module,
            step=getattr(module, function),
            code=STEP_TABLE.index((self.integrator, function)),
            parameter_name=self.parameter_name,
            parameter=self.parameter,
        )

    @property
    def label(self) -> str:
        """Name and parameter, e.g. ``ias15 tol=1e-09``."""
        return f"{self.integrator} {self.parameter_name}={self.parameter:g}"


@dataclass(frozen=True, kw_only=True)
class HermiteSettings(IntegratorSettings):
    """Fourth-order Hermite (:mod:`nbody.integrators.hermite`).

    Attributes
    ----------
    eta
        Step accuracy parameter of the criterion (default 0.02).
    criterion
        ``"aarseth"`` (from the derivatives of the acceleration) or ``"collision"`` (``eta`` times the pairs'
        collision time, AMUSE's Hermite).
    """

    integrator: ClassVar[str] = "hermite"
    eta: float | None = None
    criterion: CriterionName = "aarseth"

    def __post_init__(self) -> None:
        check_criterion(self.criterion)
        super().__post_init__()

    def step_function(self) -> str:
        """``step_fixed``, or the step function of the criterion."""
        return "step_fixed" if self.parameter_name == "dt" else dict(BY_NAME[self.integrator].adaptive)[self.criterion]

    @property
    def label(self) -> str:
        """Name and parameter, with ``(collision)`` for the collision-time criterion."""
        collision = self.criterion == "collision" and self.parameter_name == "eta"
        return super().label + (" (collision)" if collision else "")


@dataclass(frozen=True, kw_only=True)
class LeapfrogSettings(IntegratorSettings):
    """Kick-drift-kick leapfrog (:mod:`nbody.integrators.leapfrog`).

    Attributes
    ----------
    eta
        Adaptive step: ``eta`` times the shortest free-fall time (default: the fixed ``dt = 1e-3``).
    """

    integrator: ClassVar[str] = "leapfrog"
    eta: float | None = None


@dataclass(frozen=True, kw_only=True)
class RKSettings(IntegratorSettings):
    """Dormand-Prince 5(4) (:mod:`nbody.integrators.dopri5`).

    Attributes
    ----------
    tol
        Relative tolerance of the embedded error estimate (default 1e-10).
    """

    integrator: ClassVar[str] = "rk"
    tol: float | None = None


@dataclass(frozen=True, kw_only=True)
class IAS15Settings(IntegratorSettings):
    """IAS15 (:mod:`nbody.integrators.ias15`).

    Attributes
    ----------
    tol
        The step-size control parameter, REBOUND's ``epsilon`` (default 1e-9).
    """

    integrator: ClassVar[str] = "ias15"
    tol: float | None = None


@dataclass(frozen=True, kw_only=True)
class ArchainSettings(IntegratorSettings):
    """Algorithmic regularisation in chain coordinates (:mod:`nbody.integrators.archain`).

    Attributes
    ----------
    tol
        Relative tolerance of the Gragg-Bulirsch-Stoer extrapolation (default 1e-14); a ``dt`` gives the logH leapfrog
        without extrapolation at the fictitious step ``dt * U0``.
    """

    integrator: ClassVar[str] = "archain"
    tol: float | None = None


#: The settings class of each integrator, by name.
SETTINGS: dict[str, type[IntegratorSettings]] = {
    cls.integrator: cls for cls in (HermiteSettings, LeapfrogSettings, RKSettings, IAS15Settings, ArchainSettings)
}
assert tuple(SETTINGS) == INTEGRATOR_NAMES, "a settings class per row of the table, in its order"


def settings_for(integrator: str, **parameters: float | str | None) -> IntegratorSettings:
    """The settings of ``integrator`` from keyword parameters (``eta``, ``tol``, ``dt``, ``criterion``; None: not given).

    A ``criterion`` is checked for every integrator and used by those that have several (Hermite).

    Raises
    ------
    ArgumentError
        For an unknown integrator or criterion, a parameter the integrator does not take, or (from the settings class)
        more than one parameter or a value that is not a finite number > 0 or is past its limit.
    """
    if integrator not in SETTINGS:
        raise ArgumentError(f"unknown integrator {integrator!r}; one of {', '.join(INTEGRATOR_NAMES)}", ("integrator",))
    cls = SETTINGS[integrator]
    given = {name: value for name, value in parameters.items() if value is not None}
    criterion = given.pop("criterion", None)
    if criterion is not None:
        check_criterion(criterion)
    own = {field.name for field in fields(cls)}
    if criterion is not None and "criterion" in own:
        given["criterion"] = criterion
    for name in given:  # (more than one parameter: the class says so)
        if name not in own:
            raise ArgumentError(f"integrator {integrator!r} takes {' or '.join(cls.parameter_names())}, not {name}", (name,))
    return cls(**given)  # type: ignore[arg-type]


def as_settings(integrator: str | IntegratorSettings, **parameters: float | str | None) -> IntegratorSettings:
    """``integrator`` itself when it is a settings object (then no keyword parameter may be given), else :func:`settings_for`."""
    if isinstance(integrator, IntegratorSettings):
        extra = [name for name, value in parameters.items() if value is not None]
        if extra:
            raise ArgumentError(f"give the parameters in the settings object, not as {', '.join(extra)}", (extra[0],))
        return integrator
    return settings_for(integrator, **parameters)


def resolve(integrator: str, **parameters: float | str | None) -> Stepper:
    """The step function and parameter of ``integrator`` with keyword parameters: ``settings_for(...).stepper()``."""
    return settings_for(integrator, **parameters).stepper()
