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


def _head_on():
    """Two unit masses at rest 1 apart: they meet at t = pi / 4 (free fall from rest, closed form)."""
    import numpy as np

    from nbody.state import System

    return System(np.ones(2), np.array([[-0.5, 0.0, 0.0], [0.5, 0.0, 0.0]]), np.zeros((2, 3)))


def test_a_run_whose_energy_error_passes_the_threshold_warns():
    """Head-on with a fixed leapfrog step: it goes through the collision with a huge energy error (was silent)."""
    with pytest.warns(simulate.EnergyErrorWarning, match=r"leapfrog: relative energy error .* passed 0.01 .*fixed step.*archain"):
        run = simulate.integrate(_head_on(), 2.0, "leapfrog", record_times=[0.5, 0.75, 1.0, 1.5])
    assert run.energy_exceeded and run.energy_exceeded_at == 1.0  # the first snapshot after the collision
    assert run.energy_error[1] < 0.01 and run.energy_error[-1] > 1.0
    assert not run.status.failed  # not an early stop: the run went through, wrong


def test_the_energy_threshold_is_settable_and_quiet_below_it(recwarn):
    run = simulate.integrate(figure_eight(), 1.0, "leapfrog", dt=0.01, energy_warning=1e-12)
    assert run.energy_exceeded  # a strict threshold catches even a good run
    run = simulate.integrate(figure_eight(), 1.0, "hermite", eta=0.02)
    assert not run.energy_exceeded
    assert sum(issubclass(w.category, simulate.EnergyErrorWarning) for w in recwarn) == 1


def test_the_nbody_case_logs_flags_and_marks_an_energy_error_past_the_threshold(tmp_path, capsys):
    run_case(load_case(ROOT / "cases" / "quickstart.yaml", ["snapshots=20", "energy_warning=1e-14"]), tmp_path)
    err = capsys.readouterr().err
    assert "warning: hermite eta=0.02: hermite: relative energy error" in err and "tighten eta" in err
    summary = load_results(tmp_path / "result.h5").attrs["summary"]
    assert summary["energy_error_exceeded"] and not summary["stopped_early"]
