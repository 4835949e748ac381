"""The ``rom_campaign`` case kind: train the adaptive ROM once, then run it on a sequence of new loadings, the bases
and the cubature enriched by one carried over to the next (the runner is :func:`rom.campaign_run.run`)."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from adaptsim.cases import KindSpec, StrictModel
from adaptsim.errors import CaseError, InputError
from rom.loading_changes import LoadingChanges, changed_loading
from rom.online_case import TrainedRomCase


class CampaignSpec(StrictModel):
    """The loadings the trained ROM runs, one after the other."""

    loadings: list[LoadingChanges] = Field(
        default_factory=list,
        max_length=10_000,
        description="Loadings given one by one: each maps fields under `loading.` (dotted: `temperature.parameters.T_tip`, `rotation.speed`, `history.times`) to their values.",
    )
    draws: int = Field(
        0, ge=0, le=100_000, description="Further loadings drawn at random (the case's seed) from `family`, after `loadings`."
    )
    family: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="Per field under `loading.` (dotted), the [low, high] of its uniform draw."
    )
    verify_every: int = Field(
        1,
        ge=0,
        description="Run the full model on every k-th loading (the first, then every k-th) to measure the ROM's error; 0: never. Not counted in the ROM's time.",
    )


class CampaignCase(TrainedRomCase):
    """The adaptive ROM trained once and run on a campaign of new loadings, enriching as it goes."""

    kind: Literal["rom_campaign"]  # type: ignore[assignment]
    campaign: CampaignSpec = CampaignSpec()

    @model_validator(mode="after")
    def _check_campaign(self) -> CampaignCase:
        if not self.campaign.loadings and not self.campaign.draws:
            raise ValueError("campaign: no loadings (give campaign.loadings or campaign.draws)")
        if self.campaign.draws and not self.campaign.family:
            raise ValueError("campaign.family: campaign.draws needs the fields to draw (e.g. {temperature.parameters.T_tip: [1000, 1200]})")
        for key, (low, high) in self.campaign.family.items():
            if not low <= high:
                raise ValueError(f"campaign.family.{key}: low {low} above high {high}")
        mesh = self.validated_mesh()
        for index, changes in enumerate(self.campaign_loadings()):
            where = (
                f"campaign.loadings[{index}]"
                if index < len(self.campaign.loadings)
                else f"campaign draw {index - len(self.campaign.loadings)}"
            )
            loading = changed_loading(self.loading, changes, where)
            try:
                loading.temperature.check_on(mesh.points, loading.history)
            except (CaseError, InputError) as error:
                raise ValueError(f"{where}: {error.message}") from None
        return self

    def campaign_loadings(self) -> list[LoadingChanges]:
        """Every loading of the campaign: the given ones, then ``draws`` from ``family`` (uniform, the case's seed)."""
        rng = np.random.default_rng(self.seed)
        family = self.campaign.family
        drawn: list[LoadingChanges] = [
            {key: float(rng.uniform(low, high)) for key, (low, high) in family.items()} for _ in range(self.campaign.draws)
        ]
        return [*self.campaign.loadings, *drawn]


KIND = KindSpec(
    name="rom_campaign",
    model=CampaignCase,
    runner="rom.campaign_run:run",
    summary="The adaptive ROM trained once and run on a sequence of new loadings, its enrichments carried from one to the next.",
    smoke_overrides=("mesh.divisions=[3,1,3]", "loading.history.increments=[2,2,1]"),
    mpi=True,
    citations="rom.online_case:citations",
)
