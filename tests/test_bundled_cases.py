"""Every YAML case in cases/ validates, and runs shortened by its kind's smoke overrides (the ``*_mpi`` cases
under ``mpiexec -n 2``, as their users launch them)."""

import sys
from pathlib import Path

import pytest

from adaptsim.cases import load_case, run_case
from adaptsim.results import load_results

from .mpi import run_under_mpiexec

CASES = sorted((Path(__file__).resolve().parents[1] / "cases").glob("*.yaml"))


def test_there_are_cases_including_quickstart():
    assert "quickstart.yaml" in [c.name for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_case_validates(case):
    loaded = load_case(case)
    assert loaded.case.description, f"{case.name} needs a one-line description"


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_case_runs_shortened(case, tmp_path):
    spec = load_case(case).spec
    loaded = load_case(case, spec.smoke_overrides)
    if case.stem.endswith("_mpi"):
        assert spec.mpi, f"{case.name}: kind {spec.name} does not run under mpiexec"
        overrides = [a for o in spec.smoke_overrides for a in ("--set", o)]
        completed = run_under_mpiexec(
            [str(Path(sys.executable).with_name("adaptsim")), "run", str(case), *overrides, "--out", str(tmp_path)], 2, cwd=tmp_path
        )
        assert completed.returncode == 0, completed.stderr
        results = load_results(tmp_path / "result.h5")
        assert results.attrs["summary"]["n_ranks"] == 2
    else:
        results = load_results(run_case(loaded, tmp_path).result_path)
    assert results.kind == spec.name
    assert results.case == loaded.case.model_dump(mode="json")
    assert list(tmp_path.glob("*.png"))
