"""The shipped agent against every fixed parameter, on a smaller held-out seed set than the bundled case."""

from pathlib import Path

import numpy as np
import pytest

from adaptsim.cases import load_case, run_case
from adaptsim.results import load_results

ROOT = Path(__file__).resolve().parents[2]
EVAL_CASE = ROOT / "cases" / "rl_eval.yaml"


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory, monkeypatch_module):
    monkeypatch_module.chdir(ROOT)  # the case names the shipped model relative to the repository root
    out = tmp_path_factory.mktemp("rl_eval")
    loaded = load_case(EVAL_CASE, ["n_seeds=20", "steps=100", "seed_start=200000", "examples=1"])
    run_case(loaded, out)
    return load_results(out / "result.h5"), out


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_shipped_agent_is_small():
    model = ROOT / load_case(EVAL_CASE).case.model
    assert model.stat().st_size < 2 * 1024 * 1024


@pytest.mark.slow
def test_result_contract(evaluation):
    results, out = evaluation
    assert results["fixed_params"].shape == (10,)
    assert results["fixed_median_energy_error"].shape == (10,) and results["fixed_mean_cost"].shape == (10,)
    summary = results.attrs["summary"]
    for key in ("agent_median_energy_error", "agent_mean_cost", "n_seeds", "dominated", "below_front"):
        assert key in summary
    assert summary["n_seeds"] == 20
    assert "transfer" in results.data and "dominated" in results.attrs["transfer/summary"]
    # Fixed parameters: smaller mu costs more (force evaluations rise monotonically).
    assert np.all(np.diff(results["fixed_mean_cost"]) < 0)
    for picture in ("front.png", "trajectories.png"):
        assert (out / picture).read_bytes()[:4] == b"\x89PNG"
