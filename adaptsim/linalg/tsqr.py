"""QR factorisations of tall-skinny matrices whose rows are distributed over MPI ranks.

Each rank holds a block of rows ``A_r``; the factorisation ``A = Q R`` leaves ``Q`` distributed the same way
and gives every rank the same small ``R``.

- :func:`tsqr`: communication-avoiding TSQR (Demmel, Grigori, Hoemmen & Langou 2012): a Householder QR of
  each block, then one QR of the stacked ``R`` factors (gathered on every rank), and ``Q_r = Q_r^local Q^small_r``.
  Unconditionally stable; Euclidean inner product (scale the rows by the square roots of a diagonal
  inner product first).
- :func:`distributed_cholesky_qr2`: CholeskyQR2 (shifted CholeskyQR3 beyond condition 1e8) from
  :mod:`adaptsim.linalg.orthogonal`, with the Gram matrix summed by ``Allreduce``: one ``n x n`` reduction per
  pass, and any inner product given as a local matrix (e.g. a mass matrix restricted to owned rows).

``comm`` is an ``mpi4py`` communicator; a serial run passes ``MPI.COMM_SELF`` (mpi4py is imported lazily).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adaptsim.linalg.orthogonal import cholesky_qr2


def _positive_diagonal(Q: np.ndarray, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    signs = np.where(np.diag(R) < 0.0, -1.0, 1.0)
    return Q * signs, R * signs[:, None]


def tsqr(local: np.ndarray, comm: Any) -> tuple[np.ndarray, np.ndarray]:
    """TSQR of the row-distributed matrix whose block on this rank is ``local`` (m_r, n).

    Returns
    -------
    Q_local, R
        This rank's rows of ``Q`` (m_r, n) and the ``(n, n)`` upper-triangular ``R`` with a non-negative
        diagonal (the same on every rank), ``A = Q R``, ``Q^T Q = I``.
    """
    local = np.asarray(local, dtype=float)
    m, n = local.shape
    q_local, r_local = np.linalg.qr(local, mode="reduced")  # (m, k), (k, n) with k = min(m, n)
    k = r_local.shape[0]
    padded_q = np.zeros((m, n))
    padded_q[:, :k] = q_local
    padded_r = np.zeros((n, n))
    padded_r[:k] = r_local
    stacked = np.vstack(comm.allgather(padded_r))  # (p n, n)
    q_small, r = np.linalg.qr(stacked, mode="reduced")
    rank = comm.Get_rank()
    q = padded_q @ q_small[rank * n : (rank + 1) * n]
    return _positive_diagonal(q, r)


def distributed_gram(comm: Any, inner: Any = None):
    """``X -> sum_r X_r^T M_r X_r`` over the ranks (``M_r`` this rank's block of the inner product, or None).

    The sum is reduced on rank 0 and broadcast, so that every rank holds the same bits: an ``Allreduce`` may
    round differently on different ranks (MPICH on 3 ranks does), and CholeskyQR2's choices (shift or not)
    must be the same everywhere, or the ranks would part ways in the collective calls that follow.
    """
    from mpi4py import MPI

    def gram(block: np.ndarray) -> np.ndarray:
        weighted = block if inner is None else np.asarray(inner @ block)
        local = np.ascontiguousarray(block.T @ weighted)
        total = np.empty_like(local)
        comm.Reduce(local, total, op=MPI.SUM, root=0)
        comm.Bcast(total, root=0)
        return total

    return gram


def distributed_cholesky_qr2(local: np.ndarray, comm: Any, inner: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """CholeskyQR2 of the row-distributed matrix (block ``local`` on this rank) in the inner product ``inner``.

    Returns
    -------
    Q_local, R
        This rank's rows of ``Q`` with ``sum_r Q_r^T M_r Q_r = I``, and ``R`` (the same on every rank).
    """
    local = np.asarray(local, dtype=float)
    rows = int(comm.allreduce(local.shape[0]))
    return _positive_diagonal(*cholesky_qr2(local, gram=distributed_gram(comm, inner), rows=rows))
