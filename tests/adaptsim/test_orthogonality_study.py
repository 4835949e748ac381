"""The orthogonality study reports a method that fails: in the log, the result and the plot."""

from pathlib import Path

import numpy as np

import adaptsim.orthogonality_study as study
from adaptsim.cases import load_case, run_case
from adaptsim.results import load_results

ROOT = Path(__file__).resolve().parents[2]


def test_a_failing_method_is_logged_counted_and_not_hidden_by_the_worst_defect(tmp_path, monkeypatch, capsys):
    real = study.orthonormalize

    def breaks_on_ill_conditioned(A, method):
        if method == "cholesky_qr2" and np.linalg.cond(A) > 1e6:
            raise np.linalg.LinAlgError("A is numerically rank deficient")
        return real(A, method)

    monkeypatch.setattr(study, "orthonormalize", breaks_on_ill_conditioned)
    loaded = load_case(ROOT / "cases" / "orthogonality.yaml", ["rows=60", "columns=8", "condition_numbers=[1.0, 1.0e+8]"])
    run_case(loaded, tmp_path)
    err = capsys.readouterr().err
    assert "cholesky_qr2 failed at condition number 1.0e+08" in err
    assert "FAILED on 1 of 2 matrices" in err
    results = load_results(tmp_path / "result.h5")
    methods = list(results["methods"])
    row = methods.index("cholesky_qr2")
    assert results["failed"][row].tolist() == [False, True]
    assert results.attrs["/"]["failures_cholesky_qr2"] == 1 and results.attrs["/"]["failures_householder"] == 0


def test_every_method_orthonormal_except_plain_gram_schmidt_on_the_bundled_conditions(tmp_path):
    loaded = load_case(ROOT / "cases" / "orthogonality.yaml", ["rows=100", "columns=10"])
    run_case(loaded, tmp_path)
    results = load_results(tmp_path / "result.h5")
    assert not results["failed"].any()
    for method in ("mgs_reorthogonalized", "cholesky_qr2", "householder"):
        assert results.attrs["/"][f"max_defect_{method}"] < 1e-14, method
    assert results.attrs["/"]["max_defect_mgs"] > 1e-4  # u cond(A) at cond 1e14: the known loss
