"""Distributed TSQR and CholeskyQR2, run under mpiexec with 2 and 3 ranks (uneven blocks) and serially."""

from pathlib import Path

import numpy as np
import pytest

from adaptsim.linalg.tsqr import distributed_cholesky_qr2, tsqr

from ...mpi import mpi_report


@pytest.mark.mpi
@pytest.mark.parametrize("ranks", [2, 3])
def test_distributed_qr_is_orthogonal_and_matches_the_serial_factor(ranks):
    report = mpi_report(Path(__file__).with_name("mpi_tsqr_check.py"), ranks, timeout=120)
    assert report.pop("ranks") == ranks
    for name, result in report.items():
        assert result["defect"] < 1e-13, (name, result)
        assert result["residual"] < 1e-14, (name, result)
        assert result["r_equal_on_ranks"], name
        assert result["r_difference"] < 1e-13, (name, result)  # R is well conditioned even when A is not


def test_single_rank_matches_numpy():
    mpi4py = pytest.importorskip("mpi4py.MPI")
    a = np.random.default_rng(0).normal(size=(50, 6))
    for method in (tsqr, distributed_cholesky_qr2):
        q, r = method(a, mpi4py.COMM_SELF)
        assert np.allclose(q @ r, a, atol=1e-13) and np.allclose(q.T @ q, np.eye(6), atol=1e-14)
        assert np.all(np.diag(r) > 0)
