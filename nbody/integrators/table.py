"""The one table of the integrators: adding an integrator means adding a row here (and its module), and its
settings class in :mod:`nbody.integrators.settings` (checked at import).

Everything else derives from this table: the names cases accept, each integrator's parameter and default,
the step functions and their numbers in the compiled loop, the Hermite criteria and the citation keys.
It imports nothing compiled, so validating a case stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal


@dataclass(frozen=True)
class IntegratorEntry:
    """One integrator.

    Attributes
    ----------
    name
        The name cases and :func:`nbody.simulate.integrate` take.
    module
        Its module in :mod:`nbody.integrators` (``work_size``, ``init``, ``step_fixed`` and the adaptive steps).
    parameter
        The adaptive accuracy parameter it takes besides a fixed ``dt``: ``eta`` or ``tol``.
    default
        The parameter used when none is given, ``(name, value)``.
    adaptive
        ``(criterion, step function)`` of each adaptive variant; the criterion is ``""`` where there is one.
    citations
        Keys of :mod:`adaptsim.citations` for the method.
    """

    name: str
    module: str
    parameter: str
    default: tuple[str, float]
    adaptive: tuple[tuple[str, str], ...]
    citations: tuple[str, ...]

    def step_functions(self) -> tuple[str, ...]:
        """Names of the step functions of the module, adaptive variants first, then ``step_fixed``."""
        return (*(function for _, function in self.adaptive), "step_fixed")


INTEGRATORS: tuple[IntegratorEntry, ...] = (
    IntegratorEntry(
        "hermite", "hermite", "eta", ("eta", 0.02), (("aarseth", "step_aarseth"), ("collision", "step_collision")), ("hermite",)
    ),
    IntegratorEntry("leapfrog", "leapfrog", "eta", ("dt", 1e-3), (("", "step_adaptive"),), ("leapfrog",)),
    IntegratorEntry("rk", "dopri5", "tol", ("tol", 1e-10), (("", "step_adaptive"),), ("dormand_prince",)),
    IntegratorEntry("ias15", "ias15", "tol", ("tol", 1e-9), (("", "step_adaptive"),), ("ias15",)),
    IntegratorEntry(
        "archain", "archain", "tol", ("tol", 1e-14), (("", "step_adaptive"),), ("logh_leapfrog", "chain_coordinates", "bulirsch_stoer")
    ),
)

#: Names accepted by ``simulate.integrate(integrator=...)``.
INTEGRATOR_NAMES: tuple[str, ...] = tuple(entry.name for entry in INTEGRATORS)
#: Step criteria of the integrators that have several (Hermite).
CRITERIA: tuple[str, ...] = tuple(criterion for entry in INTEGRATORS for criterion, _ in entry.adaptive if criterion)
if TYPE_CHECKING:  # the names are data of the table; type checkers see plain strings
    IntegratorName = str
    CriterionName = str
else:
    #: The type of a field naming an integrator (a ``Literal`` of the table's names, for validation and the docs).
    IntegratorName = Literal[INTEGRATOR_NAMES]
    #: The type of a field naming a step criterion.
    CriterionName = Literal[CRITERIA]
#: The largest meaningful value of each step parameter: ``eta`` and ``tol`` are relative accuracies (past 1 a step
#: outgrows the orbit it follows), ``dt`` at most the longest run a case may ask for (``t_end <= 1e7``).
PARAMETER_LIMITS: dict[str, float] = {"eta": 1.0, "tol": 1.0, "dt": 1e7}

#: Relative energy error above which a run warns: the default for every integrator (``integrate(energy_warning=)``).
ENERGY_WARNING = 0.01
#: Citation keys of the criteria beyond the integrator's own.
CRITERION_CITATIONS: dict[str, tuple[str, ...]] = {"collision": ("collision_time",)}
#: The integrators by name.
BY_NAME: dict[str, IntegratorEntry] = {entry.name: entry for entry in INTEGRATORS}
#: ``(integrator, step function)`` of every step function, in the numbering of the compiled dispatch.
STEP_TABLE: tuple[tuple[str, str], ...] = tuple((entry.name, function) for entry in INTEGRATORS for function in entry.step_functions())


def integrator_citations(name: str, criterion: str = "") -> list[str]:
    """Reference keys of an integrator and of its step criterion."""
    entry = BY_NAME[name]
    own = [criterion for criterion, _ in entry.adaptive]
    return [*entry.citations, *(CRITERION_CITATIONS.get(criterion, ()) if criterion in own else ())]
