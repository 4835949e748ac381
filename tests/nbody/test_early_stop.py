"""An integration that breaks off early is a warning the user sees: in the API, the log, the result and the plot."""

import functools
from pathlib import Path

import pytest

from adaptsim.cases import load_case, run_case
from adaptsim.results import load_results
from nbody import simulate
from nbody.initial_conditions import figure_eight

ROOT = Path(__file__).resolve().parents[2]


def test_integrate_warns_when_it_runs_out_of_steps():
    with pytest.warns(simulate.EarlyStopWarning, match=r"hermite stopped at t = .* of 10: max steps"):
        run = simulate.integrate(figure_eight(), 10.0, "hermite", eta=0.02, max_steps=50)
    assert run.status is simulate.Status.MAX_STEPS and run.status.failed and run.times[-1] < 10.0


def test_a_completed_run_does_not_warn(recwarn):
    run = simulate.integrate(figure_eight(), 1.0, "hermite", eta=0.02)
    assert run.status is simulate.Status.COMPLETED and not run.status.failed
    assert not [w for w in recwarn if issubclass(w.category, simulate.EarlyStopWarning)]


def test_the_nbody_case_logs_and_records_an_early_stop(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(simulate, "integrate", functools.partial(simulate.integrate, max_steps=50))
    run_case(load_case(ROOT / "cases" / "quickstart.yaml", ["snapshots=20"]), tmp_path)
    err = capsys.readouterr().err
    assert "warning: hermite eta=0.02 STOPPED EARLY at t = " in err and "max steps" in err
    summary = load_results(tmp_path / "result.h5").attrs["summary"]
    assert summary["stopped_early"] and summary["status"] == "max steps"
