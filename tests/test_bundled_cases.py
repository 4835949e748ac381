"""Every YAML case in cases/ validates, and runs shortened by its kind's smoke overrides."""

from pathlib import Path

import pytest

from adaptsim.cases import load_case, run_case
from adaptsim.results import load_results

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
    ctx = run_case(loaded, tmp_path)
    results = load_results(ctx.result_path)
    assert results.kind == spec.name
    assert results.case == load_case(case, spec.smoke_overrides).case.model_dump(mode="json")
    assert any(p.suffix == ".png" for p in ctx.artifacts)
