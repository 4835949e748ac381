"""The rom_online case kind: result contract, reuse of the ROM file, and one-line errors for bad ROM input."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from adaptsim.cases import load_case, run_case
from adaptsim.results import load_results

ADAPTSIM = str(Path(sys.executable).with_name("adaptsim"))
CASE = Path(__file__).resolve().parents[2] / "cases" / "blade_rom.yaml"
SMALL = ["mesh.divisions=[4,1,5]", "loading.history.increments=[3,4,2]"]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("rom")
    ctx = run_case(load_case(CASE, SMALL), out)
    return out, load_results(ctx.result_path), ctx


def test_result_contract_plots_and_rom_file(small_run):
    out, results, ctx = small_run
    summary = results.attrs["summary"]
    for key in ("error_displacement_enriched", "error_displacement_plain", "error_p_enriched", "error_p_plain", "n_enrichments",
                "n_reduced_points", "n_integration_points", "n_modes", "speedup_online", "indicator_spearman"):
        assert key in summary, key
    assert results["indicator"].shape == results["true_error"].shape == (9,)
    assert summary["n_enrichments"] >= 1
    assert summary["n_reduced_points"] < summary["n_integration_points"]
    assert summary["error_displacement_enriched"] < 0.01 < summary["error_displacement_plain"]
    assert summary["error_p_enriched"] < summary["error_p_plain"]
    assert {p.name for p in ctx.artifacts} >= {"rom.h5", "result.h5", "indicator.png", "errors.png", "singular_values.png", "reduced_points.vtu"}


def test_a_saved_rom_is_reused_without_training(small_run, tmp_path):
    out, results, _ = small_run
    again = run_case(load_case(CASE, [*SMALL, f"training.rom_file={out / 'rom.h5'}", "variants=plain"]), tmp_path)
    reused = load_results(again.result_path)
    assert not (tmp_path / "rom.h5").exists()
    assert np.allclose(reused["plain/displacement_error"], results["plain/displacement_error"], rtol=1e-8, atol=1e-14)


def cli_error(tmp_path, overrides):
    args = [a for o in overrides for a in ("--set", o)]
    completed = subprocess.run([ADAPTSIM, "run", str(CASE), *args, "--out", str(tmp_path / "out")], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    errors = [line for line in completed.stderr.splitlines() if line.startswith(("adaptsim: error:", "adaptsim: run failed:"))]
    assert completed.returncode != 0 and len(errors) == 1 and "Traceback" not in completed.stderr, completed.stderr
    assert not (tmp_path / "out" / "result.h5").exists()
    return errors[0]


def test_bad_rom_files_and_tolerances(small_run, tmp_path):
    out, _, _ = small_run
    good = (out / "rom.h5").read_bytes()
    (tmp_path / "truncated.h5").write_bytes(good[: len(good) // 2])
    (tmp_path / "garbage.h5").write_bytes(b"not an HDF5 file at all" * 10)
    other_mesh = ["mesh.divisions=[3,1,5]", "loading.history.increments=[3,4,2]"]
    assert re.search(r"training.rom_file: .* was built on another mesh", cli_error(tmp_path, [*other_mesh, f"training.rom_file={out / 'rom.h5'}"]))
    assert re.search(r"training.rom_file: .*truncated.h5' is not a readable ROM file", cli_error(tmp_path, [*SMALL, f"training.rom_file={tmp_path / 'truncated.h5'}"]))
    assert re.search(r"training.rom_file: .*garbage.h5' is not a readable ROM file", cli_error(tmp_path, [*SMALL, f"training.rom_file={tmp_path / 'garbage.h5'}"]))
    assert re.search(r"training.rom_file: ROM file 'missing.h5' does not exist", cli_error(tmp_path, [*SMALL, "training.rom_file=missing.h5"]))
    assert re.search(r"tolerances.indicator: .*greater than 0", cli_error(tmp_path, [*SMALL, "tolerances.indicator=0"]))
    assert re.search(r"'T_hub' is not a parameter of loading.temperature", cli_error(tmp_path, [*SMALL, "training.fields=[{T_hub: 900}]"]))
