"""The ``rom_online`` case kind: train the adaptive ROM (or load it), run it on a new temperature field with
and without enrichment, and compare both with the high-fidelity model.

The case holds the online problem (the same ``mesh``, ``material``, ``loading``, ``solver`` sections as
``rom_hifi``), the training temperature fields (each a set of expression parameters), the tolerances, and
optionally a ROM file to reuse instead of training. Outputs: ``rom.h5`` (the ROM), ``result.h5``, the plots
``indicator.png``, ``errors.png``, ``singular_values.png``, and ``reduced_points.vtu`` (elements holding
reduced points, before and after enrichment).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from adaptsim.cases import KindSpec, PositiveFloat, StrictModel
from rom.hifi_case import HifiCase, existing_file


class TrainingSpec(StrictModel):
    """Where the ROM comes from."""

    fields: list[dict[str, float]] = Field(
        default_factory=lambda: [{}], min_length=1,
        description="Training temperature fields: each overrides parameters of `loading.temperature` for one high-fidelity run.",
    )
    rom_file: str | None = Field(None, description="Reuse this ROM file (built on the same mesh) instead of training.")
    parallel: Literal["elements", "fields"] = Field(
        "elements",
        description="Under mpiexec: every rank solves every training field on its own elements, or each rank solves whole fields (better when there are at least as many fields as ranks; the snapshots are then redistributed by rows).",
    )

    _file_exists = field_validator("rom_file")(lambda value: existing_file(value, "ROM"))


class ToleranceSpec(StrictModel):
    """POD, cubature and indicator tolerances (all > 0)."""

    displacement: PositiveFloat = Field(1e-5, description="POD of the displacements: relative discarded energy^(1/2).")
    dual: PositiveFloat = Field(1e-5, description="POD of p, plastic strain, backstress.")
    cubature: PositiveFloat = Field(1e-6, description="Empirical cubature: relative integration error.")
    indicator: PositiveFloat = Field(0.003, description="Enrich when the Gappy-POD indicator on p exceeds this.")


class RomCase(HifiCase):
    """Adaptive POD + empirical-cubature ROM of the blade, with and without enrichment, against the full model."""

    kind: Literal["rom_online"]  # type: ignore[assignment]
    training: TrainingSpec = TrainingSpec()
    tolerances: ToleranceSpec = ToleranceSpec()
    variants: Literal["both", "enriched", "plain"] = Field("both", description="Which online runs: with enrichment, without, or both.")

    @model_validator(mode="after")
    def _check_fields(self) -> RomCase:
        from rom.expressions import FieldExpression

        temperature = self.loading.temperature
        for index, field in enumerate(self.training.fields):
            unknown = sorted(set(field) - set(temperature.parameters))
            if unknown:
                raise ValueError(f"training.fields[{index}]: {unknown[0]!r} is not a parameter of loading.temperature ({', '.join(temperature.parameters)})")
            FieldExpression(temperature.expression, {**temperature.parameters, **field}, f"training.fields.{index}")
        return self


KIND = KindSpec(
    name="rom_online",
    model=RomCase,
    runner="rom.online_run:run",
    summary="Adaptive POD + empirical-cubature ROM of the blade on a new temperature field, with and without enrichment.",
    smoke_overrides=("mesh.divisions=[3,1,3]", "loading.history.increments=[2,2,1]"),
    mpi=True,
    citations="rom.online_case:citations",
)


def citations(case: RomCase) -> list[str]:
    """Reference keys of the full model, the ROM (POD, cubature, indicator, enrichment) and its distribution."""
    from rom.hifi_case import citations as hifi_citations

    return [*hifi_citations(case), "adaptive_rom", "pod_snapshots", "ecm", "qdeim", "gappy_pod", "distributed_rom", "tsqr", "metis"]
