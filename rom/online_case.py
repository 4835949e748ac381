"""The ``rom_online`` case kind: the blade case of ``rom_hifi`` plus the training runs, the tolerances and the
variants to run (the runner is :func:`rom.online_run.run`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from adaptsim.cases import KindSpec, PositiveFloat, StrictModel
from adaptsim.errors import CaseError, InputError, case_field
from rom.hifi_case import HifiCase, existing_file
from rom.loading_changes import LoadingChanges, changed_loading
from rom.tolerances import ENRICHMENT_TOLERANCE, Tolerances

_DEFAULT = Tolerances()


class TrainingSpec(StrictModel):
    """Where the ROM comes from."""

    fields: list[dict[str, float]] = Field(
        default_factory=lambda: [dict[str, float]()],
        max_length=1000,
        description="Training temperature fields: each overrides parameters of `loading.temperature` for one high-fidelity run.",
    )
    loadings: list[LoadingChanges] = Field(
        default_factory=list,
        max_length=1000,
        description=(
            "Further training runs after `fields`, each the case's loading with fields under `loading.` changed (dotted, "
            "as in `campaign.loadings`: `rotation.speed`, `temperature.parameters.T_tip`, `history.times`)."
        ),
    )
    calibration: list[LoadingChanges] = Field(
        default_factory=list,
        max_length=1000,
        description=(
            "Loadings the ROM is not trained on (dotted changes, as `loadings`), each run with the full model and the "
            "plain ROM after training: the error estimate's weights are fitted to their true errors (rom.indicator.calibrate)."
        ),
    )
    rom_file: str | None = Field(None, description="Reuse this ROM file (built on the same mesh) instead of training.")
    parallel: Literal["elements", "fields"] = Field(
        "elements",
        description="Under mpiexec: every rank solves every training run (fields and loadings) on its own elements, or each rank solves whole runs (better when there are at least as many runs as ranks; the snapshots are then redistributed by rows).",
    )

    _file_exists = field_validator("rom_file")(lambda value: existing_file(value, "ROM"))

    @model_validator(mode="after")
    def _some_run(self) -> TrainingSpec:
        if not self.fields and not self.loadings:
            raise ValueError("training: no training run (give training.fields or training.loadings)")
        if self.rom_file is not None and self.calibration:
            raise ValueError("training.calibration: calibration runs belong to training; a ROM from training.rom_file keeps its own")
        return self


class ToleranceSpec(StrictModel):
    """POD, cubature and indicator tolerances (all in (0, 1])."""

    displacement: PositiveFloat = Field(
        _DEFAULT.displacement, le=1.0, description="POD of the displacements: relative discarded energy^(1/2)."
    )
    dual: PositiveFloat = Field(_DEFAULT.dual, le=1.0, description="POD of p, plastic strain, backstress.")
    cubature: PositiveFloat = Field(_DEFAULT.cubature, le=1.0, description="Empirical cubature: relative integration error.")
    indicator: PositiveFloat = Field(
        ENRICHMENT_TOLERANCE, le=1.0, description="Enrich when the estimated relative error (stress and p, rom.indicator) exceeds this."
    )


class TrainedRomCase(HifiCase):
    """The blade case with what trains its adaptive ROM: the training runs (or a ROM file) and the tolerances."""

    training: TrainingSpec = TrainingSpec()
    tolerances: ToleranceSpec = ToleranceSpec()

    @model_validator(mode="after")
    def _check_fields(self) -> TrainedRomCase:
        from rom.expressions import FieldExpression

        temperature = self.loading.temperature
        for index, field in enumerate(self.training.fields):
            unknown = sorted(set(field) - set(temperature.parameters))
            if unknown:
                raise ValueError(
                    f"training.fields[{index}]: {unknown[0]!r} is not a parameter of loading.temperature ({', '.join(temperature.parameters)})"
                )
            FieldExpression(temperature.expression, {**temperature.parameters, **field}, f"training.fields.{index}")
        for index, changes in enumerate(self.training.loadings):
            changed_loading(self.loading, changes, f"training.loadings[{index}]")
        for index, changes in enumerate(self.training.calibration):
            changed_loading(self.loading, changes, f"training.calibration[{index}]")
        self._check_training_inputs()
        return self

    def training_runs(self) -> list[tuple[tuple[str, str, int], LoadingChanges]]:
        """Every high-fidelity training run as its case field and the changes of the case's loading it makes: the
        fields (their temperature parameters), then the loadings."""
        fields: list[tuple[tuple[str, str, int], LoadingChanges]] = [
            (("training", "fields", index), {f"temperature.parameters.{key}": value for key, value in field.items()})
            for index, field in enumerate(self.training.fields)
        ]
        return [*fields, *((("training", "loadings", index), changes) for index, changes in enumerate(self.training.loadings))]

    def calibration_runs(self) -> list[tuple[tuple[str, str, int], LoadingChanges]]:
        """Every calibration run as its case field and the changes of the case's loading it makes."""
        return [(("training", "calibration", index), changes) for index, changes in enumerate(self.training.calibration)]

    def _check_training_inputs(self) -> None:
        """Evaluate every training run's temperature field on the mesh, and read a given ROM file against it, before
        the run."""
        from rom.storage import load_rom

        mesh = self.validated_mesh()
        try:
            for field, changes in [*self.training_runs(), *self.calibration_runs()]:
                loading = changed_loading(self.loading, changes)
                try:
                    loading.temperature.check_on(mesh.points, loading.history)
                except (CaseError, InputError) as error:
                    raise CaseError(error.message, field=field) from None
            if self.training.rom_file is not None:
                with case_field("training", "rom_file"):
                    load_rom(self.training.rom_file, mesh)
        except CaseError as error:
            raise ValueError(str(error)) from None


class RomCase(TrainedRomCase):
    """Adaptive POD + empirical-cubature ROM of the blade, with and without enrichment, against the full model."""

    kind: Literal["rom_online"]  # type: ignore[assignment]
    variants: Literal["both", "enriched", "plain"] = Field("both", description="Which online runs: with enrichment, without, or both.")


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
