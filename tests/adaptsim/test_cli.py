"""The adaptsim command line: bad input gives one line, exit code 2, no traceback, no output."""

import shutil
import sys
from pathlib import Path

import pytest

import adaptsim
from adaptsim.cli import main
from adaptsim.results import load_results
from tests import processes

ADAPTSIM = shutil.which("adaptsim") or str(Path(sys.executable).parent / "adaptsim")
GOOD_CASE = "kind: orthogonality\nrows: 30\ncolumns: 5\ncondition_numbers: [1.0, 1.0e+6]\n"


def run_cli(*args, cwd):
    return processes.run([ADAPTSIM, *map(str, args)], timeout=120, cwd=cwd)


def write(tmp_path, text, name="case.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


BAD_INPUTS = {
    "missing file": (None, "does not exist"),
    "invalid yaml": ("kind: orthogonality\nrows: [30\n", "invalid YAML at line"),
    "unknown kind": ("kind: orthogonallity\n", "kind: unknown kind 'orthogonallity' (did you mean 'orthogonality'?)"),
    "unknown key": (GOOD_CASE + "colums: 4\n", "colums: unknown key (did you mean 'columns'?)"),
    "wrong type": (GOOD_CASE.replace("rows: 30", "rows: many"), "rows: input should be a valid integer"),
    "negative size": (GOOD_CASE.replace("rows: 30", "rows: -30"), "rows: input should be greater than or equal to 2"),
    "nan": (GOOD_CASE.replace("1.0e+6", ".nan"), "condition_numbers[1]: must be a finite number"),
    "inconsistent": (GOOD_CASE.replace("columns: 5", "columns: 50"), "columns (50) must not exceed rows (30)"),
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_one_line_exit_2_no_output(tmp_path, name):
    text, expected = BAD_INPUTS[name]
    case = tmp_path / "case.yaml" if text is None else write(tmp_path, text)
    out = tmp_path / "out"
    result = run_cli("run", case, "--out", out, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"adaptsim: error: {case}: ")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr
    assert not out.exists()
    assert run_cli("validate", case, cwd=tmp_path).returncode == 2


def test_bad_override_and_bad_out(tmp_path):
    case = write(tmp_path, GOOD_CASE)
    result = run_cli("run", case, "--set", "rows=-1", "--out", tmp_path / "o", cwd=tmp_path)
    assert result.returncode == 2 and "rows: input should be greater than or equal to 2" in result.stderr
    result = run_cli("run", case, "--set", "rows", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.strip() == "adaptsim: error: --set: expected path.to.key=value, got 'rows'"
    (tmp_path / "file").write_text("")
    result = run_cli("run", case, "--out", tmp_path / "file", cwd=tmp_path)
    assert result.returncode == 2 and "--out: exists and is not a folder" in result.stderr
    assert not (tmp_path / "o").exists() and not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    "overrides, expected",
    [
        (["t_end=0"], "t_end: input should be greater than 0, got 0"),
        (["t_end=-2.5"], "t_end: input should be greater than 0, got -2.5"),
        (["dt=-1e-3"], "dt: input should be greater than 0"),
        (["t_end=.nan"], "t_end: must be a finite number"),
        (["positions=[[0, .nan, 0]]"], "positions[0][1]: must be a finite number"),
        (["integrator.eta=fast"], "integrator.eta: input should be a valid number"),
    ],
)
def test_times_and_nans_in_process(tmp_path, capsys, overrides, expected):
    """Times and nested arrays, through main() with the test kind (which the CLI knows from the registry)."""
    import tests.adaptsim.demo_kind  # noqa: F401  registers kind 'demo'

    case = write(tmp_path, "kind: demo\nt_end: 1.0\n")
    out = tmp_path / "out"
    args = ["run", str(case), "--out", str(out)]
    for override in overrides:
        args += ["--set", override]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"adaptsim: error: {case}: {expected}" or (err.startswith(f"adaptsim: error: {case}: {expected}"))
    assert not out.exists()
    assert main(["run", str(case), "--out", str(out), "--set", "t_end=0.5", "--set", "dt=0.1"]) == 0
    results = load_results(out / "result.h5")
    assert results["t"] == pytest.approx([0, 0.1, 0.2, 0.3, 0.4, 0.5])
    assert results.case["t_end"] == 0.5 and results.case["dt"] == 0.1


def test_run_writes_result_and_plot(tmp_path):
    case = write(tmp_path, GOOD_CASE + "seed: 11\n")
    result = run_cli("run", case, "--out", tmp_path / "out", "--set", "columns=4", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    results = load_results(tmp_path / "out" / "result.h5")
    assert results.seed == 11 and results.kind == "orthogonality"
    assert results.case["columns"] == 4  # the override is in the resolved case
    assert results["orthogonality_defect"].shape == (4, 2)
    assert (tmp_path / "out" / "orthogonality.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Default output folder: results/<case name>.
    assert run_cli("run", case, cwd=tmp_path).returncode == 0
    assert (tmp_path / "results" / "case" / "result.h5").exists()


def test_version_and_cases_listing(tmp_path):
    result = run_cli("--version", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == f"adaptsim {adaptsim.__version__}"
    result = run_cli("cases", cwd=tmp_path)
    assert result.returncode == 0
    assert "quickstart.yaml" in result.stdout and "orthogonality" in result.stdout
    assert run_cli("cases", tmp_path / "nowhere", cwd=tmp_path).returncode == 2


def test_usage_errors_exit_2(tmp_path):
    result = run_cli("frobnicate", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr


@pytest.mark.mpi
def test_a_kind_without_mpi_refuses_to_run_under_mpiexec(tmp_path):
    case = write(tmp_path, GOOD_CASE)
    mpiexec = str(Path(sys.executable).with_name("mpiexec"))
    completed = processes.run([mpiexec, "-n", "2", ADAPTSIM, "run", str(case), "--out", str(tmp_path / "out")], timeout=120)
    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and "kind 'orthogonality' runs on one process, but mpiexec started 2" in lines[0]
    assert not (tmp_path / "out").exists()


def test_progress_prints_lines_when_not_on_a_terminal(monkeypatch, capsys):
    import time

    import adaptsim.progress as progress

    monkeypatch.delenv("ADAPTSIM_QUIET", raising=False)
    monkeypatch.setattr(progress, "LINE_INTERVAL_S", 0.05)
    with progress.ProgressBar("increments", total=4) as bar:
        for _ in range(4):
            time.sleep(0.06)
            bar.advance()
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) >= 3 and all(line.startswith("adaptsim increments: ") for line in lines)
    assert "25% (1 of 4)" in lines[0] and "left" in lines[0] and "100% (4 of 4)" in lines[-1]
