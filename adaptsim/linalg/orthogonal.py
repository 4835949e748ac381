"""Orthonormalisation with reorthogonalisation, CholeskyQR2, basis enrichment and orthogonality measures.

Every function takes an optional inner-product matrix ``M`` (dense, sparse or a SciPy
``LinearOperator``, symmetric positive definite): the bases of a POD are orthonormal in the
L2 (mass-matrix) inner product ``<x, y>_M = x^T M y``. With ``M=None`` the Euclidean one is used.

References
----------
Giraud, Langou & Rozloznik (2005), "The loss of orthogonality in the Gram-Schmidt
orthogonalization process", Comput. Math. Appl. 50 ("twice is enough").
Fukaya, Nakatsukasa, Yanagisawa & Yamamoto (2014), "CholeskyQR2: a simple and
communication-avoiding algorithm for computing a tall-skinny QR factorization"; and
Fukaya et al. (2020), SIAM J. Sci. Comput. 42(1), shifted CholeskyQR3.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import scipy.linalg
import scipy.stats

from adaptsim.linalg.collective import maximum, summation

#: Fraction of its norm a vector may lose to a projection before the projection is repeated.
REORTHOGONALIZE_RATIO = 0.9


class GramSchmidtResult(NamedTuple):
    """Result of :func:`gram_schmidt`.

    Attributes
    ----------
    Q
        ``(m, r)`` orthonormal columns spanning the kept columns of ``A``.
    R
        ``(r, n)`` coefficients with ``A = Q @ R`` (upper trapezoidal in the kept columns).
    dropped
        Indices of the columns of ``A`` found numerically dependent on the previous ones.
    """

    Q: np.ndarray
    R: np.ndarray
    dropped: list[int]


def _apply(M: Any, x: np.ndarray) -> np.ndarray:
    return x if M is None else np.asarray(M @ x)


def _norm(M: Any, x: np.ndarray, comm: Any = None) -> float:
    """``sqrt(x^T M x)``, scaled so that tiny or huge entries neither underflow nor overflow (summed over the
    ranks of ``comm`` when ``x`` is distributed by rows and ``M`` is this rank's block)."""
    scale = maximum(comm)(float(np.max(np.abs(x), initial=0.0)))
    if scale == 0.0:
        return 0.0
    y = x / scale
    return scale * float(np.sqrt(max(float(summation(comm)(y @ _apply(M, y))), 0.0)))


def gram_schmidt(
    A: np.ndarray,
    reorthogonalize: bool = True,
    *,
    M: Any = None,
    drop_tol: float = 1e-12,
) -> GramSchmidtResult:
    """Orthonormalise the columns of ``A`` by modified Gram-Schmidt.

    Each column is projected against the basis built so far; when the projection removed more
    than 10 % of its norm (cancellation), the projection is repeated once ("twice is enough").
    A column whose remaining norm is below ``drop_tol`` times its original norm is numerically
    dependent: it is dropped and reported.

    Parameters
    ----------
    A
        ``(m, n)`` matrix.
    reorthogonalize
        Repeat the projection on cancellation. Without it the loss of orthogonality grows with
        the condition number of ``A``.
    M
        Inner-product matrix (symmetric positive definite), or None for the Euclidean one.
    drop_tol
        Relative norm below which a column counts as dependent.

    Returns
    -------
    GramSchmidtResult
        ``Q`` (m, r), ``R`` (r, n) with ``A = Q R``, and the indices of the dropped columns.
    """
    A = np.asarray(A, dtype=float)
    if A.ndim != 2:
        raise ValueError(f"A must be a 2-D array, got shape {A.shape}")
    m, n = A.shape
    Q = np.empty((m, min(m, n)))
    MQ = np.empty_like(Q)  # M @ Q, so each projection costs one dot product
    R = np.zeros((min(m, n), n))
    dropped: list[int] = []
    rank = 0
    for j in range(n):
        column_scale = float(np.max(np.abs(A[:, j]), initial=0.0))
        if column_scale == 0.0 or rank == min(m, n):
            dropped.append(j)
            if column_scale > 0.0:
                R[:rank, j] = MQ[:, :rank].T @ A[:, j]
            continue
        v = A[:, j] / column_scale  # unit max-entry: no underflow or overflow whatever the column's magnitude
        original_norm = _norm(M, v)
        norm_before = original_norm
        for _ in range(2 if reorthogonalize else 1):
            for i in range(rank):
                coefficient = MQ[:, i] @ v
                v -= coefficient * Q[:, i]
                R[i, j] += coefficient * column_scale
            norm_after = _norm(M, v)
            if norm_after > REORTHOGONALIZE_RATIO * norm_before:
                break
            norm_before = norm_after
        if norm_after <= drop_tol * original_norm:
            dropped.append(j)
            continue
        Q[:, rank] = v / norm_after
        MQ[:, rank] = _apply(M, Q[:, rank])
        R[rank, j] = norm_after * column_scale
        rank += 1
    return GramSchmidtResult(Q[:, :rank].copy(), R[:rank].copy(), dropped)


def _gram(A: np.ndarray, M: Any) -> np.ndarray:
    G = A.T @ _apply(M, A)
    return 0.5 * (G + G.T)


#: Above this condition number of the first factor, CholeskyQR2's second pass cannot restore orthogonality
#: (it needs cond(A) below about u^(-1/2) = 6.7e7): the shifted CholeskyQR3 is used instead.
CHOLESKY_QR2_MAX_CONDITION = 1e7
#: Shifted passes before a matrix is declared numerically rank deficient: each divides the condition number by
#: about ``1 / sqrt(11 (m n + n (n + 1)) u)`` (1.5e5 for 400 x 40), so two reach ``1e15``.
MAX_SHIFTED_PASSES = 3


def cholesky_qr_pass(A: np.ndarray, gram: Callable[[np.ndarray], np.ndarray], shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """One CholeskyQR pass: ``G = gram(A) + shift I = R^T R``, ``Q = A R^{-1}``.

    ``gram`` computes ``A^T M A`` (summed over MPI ranks in the distributed version).
    Raises ``numpy.linalg.LinAlgError`` when ``G`` is not numerically positive definite.
    """
    G = gram(A)
    if shift:
        G = G + shift * np.eye(G.shape[0])
    R = scipy.linalg.cholesky(G, lower=False)
    Q = scipy.linalg.solve_triangular(R, A.T, trans="T", lower=False).T
    return Q, R


def cholesky_qr2(
    A: np.ndarray, *, M: Any = None, gram: Callable[[np.ndarray], np.ndarray] | None = None, rows: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Tall-skinny QR by CholeskyQR2, falling back to shifted CholeskyQR3 for ill-conditioned ``A``.

    Two Cholesky-QR passes give orthogonality at the level of round-off for condition numbers
    up to about ``1e7`` (:data:`CHOLESKY_QR2_MAX_CONDITION`, measured on the first factor); beyond,
    passes with the shift ``11 (m n + n (n + 1)) u ||A||^2`` (Fukaya et al. 2020), which make the
    Gram matrix numerically positive definite, first bring the condition number down (shifted
    CholeskyQR3, repeated while needed), up to condition numbers of about ``1e15``.

    Parameters
    ----------
    A
        ``(m, n)`` matrix with ``m >= n`` and full numerical column rank (condition number
        below about ``1e15``).
    M
        Inner-product matrix, or None for the Euclidean one.
    gram
        Function computing ``X^T M X``; overrides ``M`` (the distributed version passes one that
        sums over ranks).
    rows
        Rows of the whole matrix (the distributed version's sum over ranks; default ``A.shape[0]``):
        the shift depends on it, and must be the same on every rank.

    Returns
    -------
    Q, R
        ``A = Q R`` with ``Q^T M Q = I`` and ``R`` upper triangular.
    """
    A = np.asarray(A, dtype=float)
    n = A.shape[1]
    m = A.shape[0] if rows is None else rows
    gram = gram or (lambda X: _gram(X, M))
    Q, R = A, np.eye(n)
    for _ in range(MAX_SHIFTED_PASSES + 1):
        try:
            Q1, R1 = cholesky_qr_pass(Q, gram)
            if np.linalg.cond(R1) <= CHOLESKY_QR2_MAX_CONDITION:
                Q2, R2 = cholesky_qr_pass(Q1, gram)
                return Q2, R2 @ R1 @ R
        except np.linalg.LinAlgError:
            pass  # the Gram matrix is not numerically positive definite: shift it
        norm2 = float(np.trace(gram(Q)))  # ||Q||_F^2 >= ||Q||_2^2
        try:
            Q, shifted = cholesky_qr_pass(Q, gram, shift=11.0 * (m * n + n * (n + 1)) * np.finfo(float).eps * norm2)
        except np.linalg.LinAlgError:
            break
        R = shifted @ R
    raise np.linalg.LinAlgError(
        "A is numerically rank deficient (condition number near 1/eps); use gram_schmidt, which drops dependent columns"
    )


def orthonormal_complement(Q: np.ndarray, v: np.ndarray, *, M: Any = None, tol: float = 1e-10, comm: Any = None) -> np.ndarray | None:
    """The unit vector that enriches the orthonormal basis ``Q`` with ``v``, or None when ``v`` lies in its span.

    ``v`` is projected out of span(Q) twice (classical Gram-Schmidt with reorthogonalisation);
    if what remains is below ``tol`` times the norm of ``v``, ``v`` adds nothing.

    Parameters
    ----------
    Q
        ``(m, r)`` basis, orthonormal in the ``M`` inner product (``r`` may be 0).
    v
        ``(m,)`` candidate vector.
    M
        Inner-product matrix, or None for the Euclidean one.
    tol
        Relative norm below which ``v`` counts as already in the span.
    comm
        MPI communicator when ``Q`` and ``v`` are distributed by rows (``M`` then this rank's block of the
        inner product, whose blocks add up to the whole one): products are summed over the ranks and every
        rank gets its rows of ``q``. None for a serial run.

    Returns
    -------
    numpy.ndarray or None
        ``q`` with ``<q, q>_M = 1`` and ``Q^T M q = 0``, or None.
    """
    v = np.asarray(v, dtype=float).ravel()
    Q = np.asarray(Q, dtype=float).reshape(v.size, -1)
    scale = maximum(comm)(float(np.max(np.abs(v), initial=0.0)))
    if scale == 0.0 or not np.isfinite(scale):
        return None
    v = v / scale  # the direction is all that matters: keep the digits of tiny vectors
    norm_v = _norm(M, v, comm)
    if norm_v == 0.0 or not np.isfinite(norm_v):
        return None
    w = v.copy()
    total = summation(comm)
    for _ in range(2):
        w -= Q @ total(Q.T @ _apply(M, w))
    norm_w = _norm(M, w, comm)
    if norm_w <= tol * norm_v:
        return None
    return w / norm_w


def orthogonality_defect(Q: np.ndarray, *, M: Any = None) -> float:
    """``||Q^T M Q - I||_F``: zero for orthonormal columns.

    Parameters
    ----------
    Q
        ``(m, r)`` matrix.
    M
        Inner-product matrix, or None for the Euclidean one.
    """
    Q = np.asarray(Q, dtype=float)
    return float(np.linalg.norm(Q.T @ _apply(M, Q) - np.eye(Q.shape[1]), "fro"))


def random_orthogonal(n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
    """A Haar-distributed (uniformly random) orthogonal ``n x n`` matrix.

    Parameters
    ----------
    n
        Dimension (>= 1).
    rng
        NumPy generator or seed.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = np.random.default_rng(rng)
    if n == 1:
        return np.array([[rng.choice([-1.0, 1.0])]])
    return scipy.stats.ortho_group.rvs(dim=n, random_state=rng)
