"""The `nbody` case kind through the command line: results contract and bad input."""

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from adaptsim.results import load_results
from nbody import initial_conditions as ic
from tests import processes

ADAPTSIM = shutil.which("adaptsim") or str(Path(sys.executable).parent / "adaptsim")
CASE = """kind: nbody
description: test
initial_conditions: {problem: figure_eight}
integrator: {name: hermite, eta: 0.02}
t_end: 6.32591398
snapshots: 50
compare:
  - {name: ias15}
"""


def run_cli(tmp_path, text, *args):
    case = tmp_path / "case.yaml"
    case.write_text(text)
    out = tmp_path / "out"
    result = processes.run([ADAPTSIM, "run", str(case), "--out", str(out), *args], timeout=300)
    return result, case, out


def test_figure_eight_case_writes_the_result_contract(tmp_path):
    result, _, out = run_cli(tmp_path, CASE)
    assert result.returncode == 0, result.stderr
    results = load_results(out / "result.h5")
    assert results["times"].shape == (50,) and results["times"][-1] == pytest.approx(ic.FIGURE_EIGHT_PERIOD)
    assert results["positions"].shape == (50, 3, 3) and results["velocities"].shape == (50, 3, 3)
    np.testing.assert_allclose(results["positions"][0], ic.figure_eight().positions)
    summary = results.attrs["summary"]
    for key in ("n_steps", "n_force_evals", "final_energy_error", "escaped"):
        assert key in summary
    assert summary["escaped"] == -1 and summary["n_force_evals"] == summary["n_steps"] + 1
    assert summary["final_energy_error"] == pytest.approx(results["energy_error"][-1]) and summary["final_energy_error"] < 1e-4
    # After one period the orbit closes (Hermite eta = 0.02: to about 1e-3).
    assert np.abs(results["positions"][-1] - results["positions"][0]).max() < 1e-2
    assert results.attrs["comparison/ias15_tol=1e-09"]["final_energy_error"] < 1e-14
    for picture in ("orbits.png", "energy_error.png"):
        assert (out / picture).read_bytes()[:4] == b"\x89PNG"


def test_pythagorean_escape_through_a_case(tmp_path):
    text = "kind: nbody\ninitial_conditions: {problem: pythagorean}\nintegrator: {name: ias15}\nt_end: 200\nsnapshots: 100\nevents: {stop_on_escape: true}\n"
    result, _, out = run_cli(tmp_path, text)
    assert result.returncode == 0, result.stderr
    summary = load_results(out / "result.h5").attrs["summary"]
    assert summary["escaped"] == 0 and summary["status"] == "escape" and summary["t_final"] < 200


@pytest.mark.parametrize(
    "change, expected",
    [
        (("t_end: 6.32591398", "t_end: -1"), "t_end: input should be greater than 0"),
        (("t_end: 6.32591398", "t_end: 0"), "t_end: input should be greater than 0"),
        (("eta: 0.02", "eta: 0"), "integrator.eta: input should be greater than 0"),
        (("eta: 0.02", "eta: .nan"), "integrator.eta: must be a finite number"),
        (("eta: 0.02", "etta: 0.02"), "integrator.etta: unknown key (did you mean 'eta'?)"),
        (("name: hermite, eta: 0.02", "name: ias15, eta: 0.02"), "integrator: integrator 'ias15' takes tol or dt, not eta"),
        (
            (
                "{problem: figure_eight}",
                "{problem: custom, masses: [1, 0, 1], positions: [[0,0,0],[1,0,0],[0,1,0]], velocities: [[0,0,0],[0,0,0],[0,0,0]]}",
            ),
            "initial_conditions.masses[1]: input should be greater than 0",
        ),
        (
            (
                "{problem: figure_eight}",
                "{problem: custom, masses: [1, 1, 1], positions: [[0,0,0],[0,0,0],[0,1,0]], velocities: [[0,0,0],[0,0,0],[0,0,0]]}",
            ),
            "initial_conditions: positions: bodies 0 and 1 are at the same place",
        ),
        (
            (
                "{problem: figure_eight}",
                "{problem: custom, masses: [1, 1, 1], positions: [[0,0,.nan],[1,0,0],[0,1,0]], velocities: [[0,0,0],[0,0,0],[0,0,0]]}",
            ),
            "initial_conditions.positions[0][2]: must be a finite number",
        ),
        (
            ("{problem: figure_eight}", "{problem: custom, masses: [1, 1]}"),
            "initial_conditions: problem 'custom' needs positions, velocities",
        ),
        (
            ("{problem: figure_eight}", "{problem: figure_eight, masses: [1, 1, 1]}"),
            "initial_conditions: masses only apply to problem 'custom', not 'figure_eight'",
        ),
        (("{problem: figure_eight}", "{problem: figure_nine}"), "initial_conditions.problem: input should be"),
        (("snapshots: 50", "snapshots: 1"), "snapshots: input should be greater than or equal to 2"),
    ],
)
def test_bad_nbody_cases(tmp_path, change, expected):
    old, new = change
    assert old in CASE
    result, case, out = run_cli(tmp_path, CASE.replace(old, new, 1))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"adaptsim: error: {case}: {expected}"), result.stderr
    assert "Traceback" not in result.stderr and not out.exists()
