"""Orthonormalisation: orthogonality to round-off, span preserved, dependence detected."""

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from adaptsim.linalg import (
    cholesky_qr2,
    gram_schmidt,
    orthogonality_defect,
    orthonormal_complement,
    random_orthogonal,
)
from adaptsim.orthogonality_study import matrix_with_condition


def projection_residual(A, Q, M=None):
    """Relative norm of the part of A outside span(Q)."""
    MQ = Q if M is None else M @ Q
    return np.linalg.norm(A - Q @ (MQ.T @ A)) / np.linalg.norm(A)


@pytest.mark.parametrize("condition", [1.0, 1e4, 1e8, 1e10, 1e12])
def test_gram_schmidt_orthonormal_on_conditioned_matrices(condition):
    A = matrix_with_condition(300, 30, condition, np.random.default_rng(1))
    Q, R, dropped = gram_schmidt(A)
    assert dropped == []
    assert orthogonality_defect(Q) <= 1e-13 * A.shape[1]
    assert projection_residual(A, Q) < 1e-10
    assert np.linalg.norm(A - Q @ R) / np.linalg.norm(A) < 1e-14
    assert np.allclose(np.tril(R, -1), 0.0)


def test_gram_schmidt_on_hilbert_matrix():
    A = scipy.linalg.hilbert(8)  # condition number 1.5e10
    assert 1e10 < np.linalg.cond(A) < 1e11
    Q, _, dropped = gram_schmidt(A)
    assert dropped == []
    assert orthogonality_defect(Q) <= 1e-13 * A.shape[1]
    assert projection_residual(A, Q) < 1e-10


def test_without_reorthogonalisation_orthogonality_is_lost():
    """The control: plain MGS loses orthogonality like u * cond(A), so the reorthogonalisation is what helps."""
    A = matrix_with_condition(300, 30, 1e10, np.random.default_rng(2))
    plain = orthogonality_defect(gram_schmidt(A, reorthogonalize=False).Q)
    assert plain > 1e-8
    assert orthogonality_defect(gram_schmidt(A).Q) < 1e-14 * 30


def test_dependent_columns_are_dropped_and_reported():
    rng = np.random.default_rng(3)
    B = rng.standard_normal((50, 4))
    A = np.column_stack([B[:, 0], B[:, 1], B[:, 0] - 2 * B[:, 1], B[:, 2], np.zeros(50), B[:, 3], 3 * B[:, 2]])
    Q, R, dropped = gram_schmidt(A)
    assert dropped == [2, 4, 6]
    assert Q.shape == (50, 4)
    assert orthogonality_defect(Q) < 1e-14
    # A = Q R still holds for the dropped columns, whose coefficients stay in R.
    assert np.linalg.norm(A - Q @ R) / np.linalg.norm(A) < 1e-14


def test_more_columns_than_rows():
    A = np.random.default_rng(4).standard_normal((5, 8))
    Q, R, dropped = gram_schmidt(A)
    assert Q.shape == (5, 5) and dropped == [5, 6, 7]
    assert np.allclose(Q @ R, A)


def test_gram_schmidt_in_mass_inner_product():
    rng = np.random.default_rng(5)
    n = 200
    M = scipy.sparse.diags([np.full(n - 1, 1.0), np.full(n, 4.0), np.full(n - 1, 1.0)], [-1, 0, 1]).tocsr() / 6.0
    A = matrix_with_condition(n, 12, 1e6, rng)
    Q, _, _ = gram_schmidt(A, M=M)
    assert orthogonality_defect(Q, M=M) < 1e-13
    assert orthogonality_defect(Q) > 0.1  # not Euclidean-orthonormal: the M inner product was used
    assert projection_residual(A, Q, M=M) < 1e-10


@pytest.mark.parametrize("condition", [1.0, 1e4, 1e7, 1e10, 1e13, 1e14, 1e15])
def test_cholesky_qr2_orthogonal_to_round_off_up_to_cond_1e15(condition):
    A = matrix_with_condition(500, 20, condition, np.random.default_rng(6))
    Q, R = cholesky_qr2(A)
    assert orthogonality_defect(Q) < 1e-13
    assert np.linalg.norm(A - Q @ R) / np.linalg.norm(A) < 1e-14
    assert np.allclose(np.tril(R, -1), 0.0)


def test_cholesky_qr2_rank_deficient_raises_clearly():
    A = np.hstack([np.ones((10, 1)), np.ones((10, 1))])  # two equal columns: exactly rank deficient
    with pytest.raises(np.linalg.LinAlgError, match="rank deficient"):
        cholesky_qr2(A)


def test_cholesky_qr2_on_hilbert_beyond_one_over_eps_is_still_orthonormal():
    A = scipy.linalg.hilbert(12)  # cond 1.8e16 > 1/eps: numerically singular, Q still orthonormal (as Householder's)
    Q, R = cholesky_qr2(A)
    assert orthogonality_defect(Q) < 1e-14
    assert np.linalg.norm(A - Q @ R) / np.linalg.norm(A) < 1e-14


def test_orthonormal_complement_enriches_or_returns_none():
    rng = np.random.default_rng(7)
    Q = np.linalg.qr(rng.standard_normal((100, 6)))[0]
    inside = Q @ rng.standard_normal(6)
    assert orthonormal_complement(Q, inside) is None
    assert orthonormal_complement(Q, np.zeros(100)) is None
    v = inside + 1e-6 * rng.standard_normal(100)
    q = orthonormal_complement(Q, v)
    assert q is not None
    enlarged = np.column_stack([Q, q])
    assert orthogonality_defect(enlarged) < 1e-13
    assert projection_residual(v[:, None], enlarged) < 1e-12
    assert orthonormal_complement(np.empty((100, 0)), v) == pytest.approx(v / np.linalg.norm(v))


def test_orthogonality_defect_value():
    Q = np.diag([1.0, 2.0, 1.0])
    assert orthogonality_defect(Q) == pytest.approx(3.0)
    assert orthogonality_defect(np.eye(4)[:, :2]) == 0.0


def test_random_orthogonal_is_orthogonal_and_haar():
    rng = np.random.default_rng(8)
    samples = [random_orthogonal(4, rng) for _ in range(4000)]
    assert max(orthogonality_defect(Q) for Q in samples) < 1e-14
    traces = np.array([np.trace(Q) for Q in samples])
    # Haar measure on O(n): E[tr Q] = 0, E[(tr Q)^2] = 1, E[Q_11^2] = 1/n; half the samples have det -1.
    assert abs(traces.mean()) < 0.06
    assert abs((traces**2).mean() - 1.0) < 0.08
    assert abs(np.mean([Q[0, 0] ** 2 for Q in samples]) - 0.25) < 0.015
    assert abs(np.mean([np.linalg.det(Q) > 0 for Q in samples]) - 0.5) < 0.04
    assert random_orthogonal(1, rng).shape == (1, 1)
    with pytest.raises(ValueError):
        random_orthogonal(0)


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(2, 40), st.integers(1, 12)),
        elements=st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
    )
)
def test_gram_schmidt_properties(A):
    Q, R, dropped = gram_schmidt(A)
    assert Q.shape[1] + len(dropped) == A.shape[1]
    assert Q.shape[1] <= min(A.shape)
    if Q.shape[1]:
        assert orthogonality_defect(Q) <= 1e-13 * max(1, A.shape[1])
    scale = max(np.linalg.norm(A), 1e-300)
    assert np.linalg.norm(A - Q @ R) <= 1e-10 * scale + 1e-300
    assert Q.shape[1] >= np.linalg.matrix_rank(A, tol=1e-9 * np.linalg.norm(A, 2)) if np.any(A) else True
