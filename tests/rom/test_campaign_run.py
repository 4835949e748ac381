"""The rom_campaign case kind: enrichments carried over between loadings, exact resume, refusal of another case."""

import sys
from pathlib import Path

import numpy as np
import pytest

from adaptsim.cases import load_case, run_case
from adaptsim.errors import CaseError
from adaptsim.results import load_results
from rom.campaign_run import RECORDS
from rom.online import AdaptiveROM

from ..mpi import run_under_mpiexec

ADAPTSIM = str(Path(sys.executable).with_name("adaptsim"))
CASE = Path(__file__).resolve().parents[2] / "cases" / "rom_campaign.yaml"
SMALL = [
    "mesh.divisions=[4,1,5]",
    "loading.history.increments=[3,4,2]",
    "campaign.loadings=[{temperature.parameters.T_tip: 1150.0}, {temperature.parameters.T_tip: 1150.0}]",
    "campaign.draws=2",
]


def records(out: Path) -> dict[str, np.ndarray]:
    return load_results(out / "result.h5").data["loading"]


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    out = tmp_path_factory.mktemp("campaign")
    ctx = run_case(load_case(CASE, SMALL), out)
    return out, load_results(ctx.result_path)


def test_a_repeated_loading_needs_no_enrichment(campaign):
    out, results = campaign
    loading = results.data["loading"]
    assert set(RECORDS) <= set(loading) and loading["enrichments"].size == 4
    assert loading["enrichments"][0] >= 1 and loading["enrichments"][1] == 0  # the second 1150 K tip: already learnt
    assert np.all(loading["verified"] == 1.0)
    # the enriched ROM is right on every loading, the repeated one included (relative to the history's largest norm)
    assert np.all(loading["error_displacement"] < 0.01) and np.all(loading["error_p"] < 0.02)
    assert np.all(np.diff(loading["n_modes"]) >= 0)  # bases only grow
    summary = results.attrs["summary"]
    assert summary["n_loadings"] == 4 and summary["n_enrichments"] == int(loading["enrichments"].sum())
    # speed-up = full-model time / ROM time (enrichments included), over the verified loadings
    assert summary["campaign_speedup_verified"] == pytest.approx(loading["full_model_time_s"].sum() / loading["rom_time_s"].sum())
    assert (out / "campaign.png").is_file() and (out / "rom.h5").is_file()
    assert not list(out.glob("*.npz"))  # training and verification checkpoints are gone once recorded in rom.h5
    rom_file = load_results(out / "rom.h5").data  # the estimate's stress basis travels with the ROM, enriched
    assert rom_file["stress_modes"].shape[0] == rom_file["backstress_modes"].shape[0] and rom_file["stress_modes"].shape[1] >= 1


def test_a_killed_campaign_resumes_exactly(campaign, tmp_path, monkeypatch):
    uninterrupted = records(campaign[0])
    run = AdaptiveROM.run
    calls = []

    def killed_at_the_third_loading(self, times, callback=None):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return run(self, times, callback)

    monkeypatch.setattr(AdaptiveROM, "run", killed_at_the_third_loading)
    with pytest.raises(KeyboardInterrupt):
        run_case(load_case(CASE, SMALL), tmp_path)
    monkeypatch.setattr(AdaptiveROM, "run", run)
    saved = load_results(tmp_path / "rom.h5").data["campaign"]
    assert saved["enrichments"].size == 2  # two loadings were finished and recorded with the ROM they left
    run_case(load_case(CASE, SMALL), tmp_path)
    resumed = records(tmp_path)
    for name in ("enrichments", "estimated_error", "error_displacement", "error_p", "n_modes", "n_reduced_points"):
        np.testing.assert_array_equal(resumed[name], uninterrupted[name], err_msg=name)


def test_another_case_in_the_output_folder_is_refused(campaign, tmp_path):
    out = campaign[0]
    with pytest.raises(CaseError, match="another case"):
        run_case(load_case(CASE, [*SMALL, "campaign.draws=3"]), out)
    assert records(out)["enrichments"].size == 4  # nothing touched


def test_a_loading_outside_the_material_tables_stops_before_anything_runs(tmp_path):
    too_hot = [*SMALL[:2], "campaign.loadings=[{temperature.parameters.T_tip: 1100.0}, {temperature.parameters.T_tip: 1250.0}]"]
    with pytest.raises(CaseError, match="loading 2 of the campaign.*outside the table's range") as error:
        run_case(load_case(CASE, [*too_hot, "campaign.draws=0"]), tmp_path)
    assert error.value.field == ("campaign", "loadings", 1)
    assert not list(tmp_path.iterdir())


@pytest.mark.mpi
def test_a_campaign_under_mpiexec_equals_the_serial_one(campaign, tmp_path):
    """Training, every loading's ROM run, its enrichments and verifications on 2 ranks: the serial campaign's records
    (the enrichments, modes and points exactly; the errors to the Newton tolerance's reach) and a ROM file in the
    serial layout."""
    serial, _ = campaign
    out = tmp_path / "mpi"
    args = [a for o in SMALL for a in ("--set", o)]
    completed = run_under_mpiexec([ADAPTSIM, "run", str(CASE), *args, "--out", str(out)], 2, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    distributed, expected = records(out), records(serial)
    for name in ("enrichments", "verified", "n_modes", "n_reduced_points"):
        np.testing.assert_array_equal(distributed[name], expected[name], err_msg=name)
    for name in ("estimated_error", "error_displacement", "error_p"):
        np.testing.assert_allclose(distributed[name], expected[name], rtol=1e-6, err_msg=name)
    assert load_results(out / "result.h5").attrs["summary"]["n_ranks"] == 2
    rom_mpi, rom_serial = load_results(out / "rom.h5").data, load_results(serial / "rom.h5").data
    assert rom_mpi["modes"].shape == rom_serial["modes"].shape and rom_mpi["stress_modes"].shape == rom_serial["stress_modes"].shape
