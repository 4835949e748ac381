"""A small case kind used by the tests to exercise validation of times, nested models and arrays."""

from typing import Literal

import numpy as np
from pydantic import Field

from adaptsim.cases import CaseModel, KindSpec, PositiveFloat, RunContext, StrictModel, register_kind


class DemoIntegrator(StrictModel):
    name: Literal["hermite", "leapfrog"] = "hermite"
    eta: float = Field(0.02, gt=0.0, le=1.0)


class DemoCase(CaseModel):
    kind: Literal["demo"]
    t_end: PositiveFloat
    dt: PositiveFloat = 0.01
    integrator: DemoIntegrator = DemoIntegrator()
    positions: list[list[float]] = Field(default_factory=lambda: [[0.0, 0.0, 0.0]])


def run(case: DemoCase, ctx: RunContext) -> None:
    """Tabulate x(t) = t^2 on the case's time grid, so the result depends on every time field."""
    t = np.arange(0.0, case.t_end + 0.5 * case.dt, case.dt)
    ctx.write_results({"t": t, "x": t**2, "positions": np.asarray(case.positions)})


KIND = register_kind(KindSpec(name="demo", model=DemoCase, runner="tests.adaptsim.demo_kind:run", summary="test kind"))
