"""Empirical cubature (Hernandez, Caicedo & Ferrer 2017) and QDEIM point selection.

:func:`empirical_cubature` picks a few integration points and non-negative weights that integrate a set of
training integrands (for the ROM: ``sigma_s : eps(psi_i)`` at every point, for every snapshot ``s`` and mode
``i``) as the full quadrature does, to a relative tolerance. The integrands are first compressed to an
orthonormal basis of their span (weighted by the quadrature), the constant function is always
included (so the weights integrate the volume), then a greedy non-negative orthogonal matching pursuit adds
the point most aligned with the residual and re-solves the weights by SciPy's NNLS, dropping points whose
weight vanishes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg
from scipy.optimize import nnls

from adaptsim.linalg.collective import summation
from adaptsim.linalg.tsqr import tsqr


@dataclass
class Cubature:
    """Selected integration points (indices into the flattened element x point arrays) and their weights."""

    points: np.ndarray
    weights: np.ndarray
    relative_error: float

    @property
    def size(self) -> int:
        """Number of selected points."""
        return self.points.size


def empirical_cubature(
    integrands: np.ndarray,
    weights: np.ndarray,
    tolerance: float = 1e-5,
    max_points: int | None = None,
    start: np.ndarray | None = None,
    comm: Any = None,
    point_ids: np.ndarray | None = None,
) -> Cubature:
    """Points and weights ``w_z >= 0`` with ``sum_z w_z f(x_z) ~ sum_g w_g f(x_g)`` for every column ``f`` of ``integrands``.

    Parameters
    ----------
    integrands
        Values (n_points, n_functions) at every integration point (under MPI: at this rank's points).
    weights
        Full quadrature weights (n_points,), Jacobians included.
    tolerance
        Relative error allowed on the vector of integrals of the compressed basis.
    max_points
        Upper bound on the number of points (default: number of independent integrands + 10 + the start).
    start
        Points to start from (the previous cubature, when the integrands were enriched): kept while their
        NNLS weights stay positive, and completed greedily.
    comm
        MPI communicator when the points are distributed: Gram matrix and integrals are summed over the
        ranks, each greedy step takes the best candidate of all ranks, and the small NNLS problems are
        solved redundantly. None for a serial run.
    point_ids
        Global ids of this rank's points (default ``0..n_points-1``); the result is in these ids.

    Raises
    ------
    ValueError
        For a tolerance <= 0, or when the greedy selection stalls before reaching the tolerance.
    """
    if not tolerance > 0.0:
        raise ValueError(f"cubature tolerance must be > 0, got {tolerance}")
    total = summation(comm)
    ids = np.arange(len(weights)) if point_ids is None else np.asarray(point_ids, dtype=np.int64)
    values = np.column_stack([np.ones(len(weights)), np.asarray(integrands, dtype=float)])
    root = np.sqrt(weights)
    scaled = values * root[:, None]
    scaled /= np.sqrt(total((scaled**2).sum(axis=0))).clip(1e-300)
    # left singular vectors through a (TS)QR and the SVD of its small R: accurate to eps * s_1 / s_k, where the
    # Gram matrix's eigenvectors lose eps * (s_1 / s_k)^2, which made serial and distributed runs differ
    q, r = np.linalg.qr(scaled) if comm is None else tsqr(scaled, comm)
    vectors, singular_values, _ = np.linalg.svd(r)
    rank = int(np.sum(singular_values > tolerance * singular_values[0]))
    left = q @ vectors[:, :rank]
    basis = left / root[:, None]  # orthonormal functions: sum_g w_g phi_k phi_l = delta_kl
    exact = total(basis.T @ weights)
    rows = {}  # global id -> basis row, replicated on every rank for the selected points
    for point in [] if start is None else [int(z) for z in start]:
        owned = np.flatnonzero(ids == point)
        candidates = [row for row in _gather(comm, basis[owned[0]] if owned.size else None) if row is not None]
        rows[point] = candidates[0]
    budget = max_points or rank + 10 + len(rows)
    point_weights, residual = np.zeros(0), exact.copy()
    if rows:
        rows, point_weights, residual = _fit(rows, exact)
    column_norms = np.linalg.norm(basis, axis=1).clip(1e-300)
    while np.linalg.norm(residual) > tolerance * np.linalg.norm(exact):
        if len(rows) >= budget:
            raise ValueError(
                f"empirical cubature stalled at relative error {np.linalg.norm(residual) / np.linalg.norm(exact):.2e} with {len(rows)} points"
            )
        score = (basis @ residual) / column_norms
        score[np.isin(ids, list(rows))] = -np.inf
        best = int(np.argmax(score)) if score.size else -1
        offers = _gather(comm, (float(score[best]), int(ids[best]), basis[best]) if best >= 0 else (-np.inf, -1, None))
        _, point, row = max(offers, key=lambda offer: (offer[0], -offer[1]))
        rows[point] = row
        rows, point_weights, residual = _fit(rows, exact)
    error = float(np.linalg.norm(residual) / np.linalg.norm(exact))
    return Cubature(np.array(list(rows), dtype=np.int64), point_weights, error)


def _gather(comm: Any, item: Any) -> list:
    """Every rank's ``item`` (a one-element list for a serial run)."""
    return [item] if comm is None else comm.allgather(item)


def _fit(rows: dict[int, np.ndarray], exact: np.ndarray) -> tuple[dict[int, np.ndarray], np.ndarray, np.ndarray]:
    """Non-negative weights of the selected points; points with zero weight are dropped."""
    matrix = np.array(list(rows.values())).T
    point_weights, _ = nnls(matrix, exact, maxiter=50 * len(rows))
    keep = point_weights > 0.0
    kept = {point: row for (point, row), k in zip(rows.items(), keep, strict=True) if k}
    return kept, point_weights[keep], exact - matrix[:, keep] @ point_weights[keep]


def qdeim_points(basis: np.ndarray) -> np.ndarray:
    """QDEIM interpolation points of a basis (n, N): the first N pivots of a column-pivoted QR of its transpose."""
    _, _, pivots = scipy.linalg.qr(basis.T, mode="economic", pivoting=True)
    return np.sort(pivots[: basis.shape[1]])
