"""Empirical cubature (Hernandez, Caicedo & Ferrer 2017) and QDEIM point selection.

:func:`empirical_cubature` picks a few integration points and non-negative weights that integrate a set of
training integrands (for the ROM: ``sigma_s : eps(psi_i)`` at every point, for every snapshot ``s`` and mode
``i``) as the full quadrature does, to a relative tolerance. It runs in two steps, each usable alone so that an
enriched ROM updates its cubature at the price of the *new* integrands only:

1. :func:`compress_integrands`: an orthonormal basis (in the quadrature) of the integrands' span, the constant
   function always included (so the weights integrate the volume): a (TS)QR of the normalised columns and the
   SVD of its small factor, directions above ``tolerance`` times the largest singular value.
   :meth:`IntegrandBasis.extended` adds columns later: their part orthogonal to the basis (classical Gram-Schmidt,
   twice), compressed the same way against the *first* largest singular value (which only grows with more
   columns, so an extension keeps at least what a compression from scratch would).
2. :func:`select_points`: greedy non-negative orthogonal matching pursuit from given points (the previous
   cubature): add the point most aligned with the residual, re-solve the weights by least squares on a QR
   factorisation updated column by column (:func:`scipy.linalg.qr_insert`), and only when a weight turns
   negative by SciPy's NNLS, dropping the points whose weight vanishes.
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


@dataclass
class IntegrandBasis:
    """Functions orthonormal in the quadrature (``sum_g w_g phi_k phi_l = delta_kl``, summed over the ranks) that
    span a set of integrands to a relative tolerance, and their exact integrals.

    ``functions`` holds this rank's points (n_points, r); ``integrals`` (r,) and ``scale`` (the largest singular
    value of the first compression, of unit-norm columns) are the same on every rank.
    """

    functions: np.ndarray
    integrals: np.ndarray
    scale: float
    tolerance: float

    @property
    def rank(self) -> int:
        """Number of functions."""
        return self.functions.shape[1]

    def extended(self, integrands: np.ndarray, weights: np.ndarray, comm: Any = None) -> IntegrandBasis:
        """The basis completed by the directions of the columns of ``integrands`` (n_points, m) it misses."""
        if not np.shape(integrands)[1]:
            return self
        total = summation(comm)
        root = np.sqrt(weights)
        scaled = _normalised(np.asarray(integrands, dtype=float) * root[:, None], total)
        orthonormal = self.functions * root[:, None]  # orthonormal in the Euclidean inner product
        for _ in range(2):  # classical Gram-Schmidt, twice: orthogonal to round-off
            scaled -= orthonormal @ total(orthonormal.T @ scaled)
        q, vectors, singular_values = _left_singular(scaled, comm)
        added = q @ vectors[:, : int(np.sum(singular_values > self.tolerance * self.scale))] / root[:, None]
        return IntegrandBasis(
            np.column_stack([self.functions, added]), np.concatenate([self.integrals, total(added.T @ weights)]), self.scale, self.tolerance
        )


def _normalised(scaled: np.ndarray, total: Any) -> np.ndarray:
    return scaled / np.sqrt(total((scaled**2).sum(axis=0))).clip(1e-300)


def _left_singular(scaled: np.ndarray, comm: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``Q``, ``V`` and the singular values of ``scaled = Q R``, ``R = V S W^T``: the left singular vectors are ``Q V``.

    Through a (TS)QR and the SVD of its small R: accurate to eps * s_1 / s_k, where the Gram matrix's eigenvectors
    lose eps * (s_1 / s_k)^2, which made serial and distributed runs differ."""
    q, r = np.linalg.qr(scaled) if comm is None else tsqr(scaled, comm)
    vectors, singular_values, _ = np.linalg.svd(r)
    return q, vectors, singular_values


def compress_integrands(integrands: np.ndarray, weights: np.ndarray, tolerance: float = 1e-5, comm: Any = None) -> IntegrandBasis:
    """An :class:`IntegrandBasis` of the constant function and the columns of ``integrands`` (n_points, m): the
    directions above ``tolerance`` times the largest singular value of the normalised columns.

    Raises
    ------
    ValueError
        For a tolerance <= 0.
    """
    if not tolerance > 0.0:
        raise ValueError(f"cubature tolerance must be > 0, got {tolerance}")
    total = summation(comm)
    root = np.sqrt(weights)
    values = np.column_stack([np.ones(len(weights)), np.asarray(integrands, dtype=float)])
    q, vectors, singular_values = _left_singular(_normalised(values * root[:, None], total), comm)
    rank = int(np.sum(singular_values > tolerance * singular_values[0]))
    functions = q @ vectors[:, :rank] / root[:, None]
    return IntegrandBasis(functions, total(functions.T @ weights), float(singular_values[0]), tolerance)


def select_points(
    basis: IntegrandBasis,
    tolerance: float | None = None,
    max_points: int | None = None,
    start: np.ndarray | None = None,
    comm: Any = None,
    point_ids: np.ndarray | None = None,
    start_weights: np.ndarray | None = None,
) -> Cubature:
    """Points and non-negative weights integrating every function of ``basis`` to ``tolerance`` (default: the
    basis's), relative to the norm of the vector of integrals.

    Parameters
    ----------
    basis
        What must be integrated (this rank's points).
    tolerance
        Relative error allowed on the vector of integrals.
    max_points
        Upper bound on the number of points (default: the basis's rank + 10 + the start).
    start
        Points to start from (the previous cubature): kept while their weights stay positive, completed greedily.
    comm
        MPI communicator when the points are distributed: each greedy step takes the best candidate of all ranks,
        and the small least-squares problems are solved redundantly. None for a serial run.
    point_ids
        Global ids of this rank's points (default ``0..n_points-1``); the result is in these ids.
    start_weights
        Positive weights of the ``start`` points (the previous cubature's) to start the weights' descent from
        (default: NNLS from scratch on the start points).

    Raises
    ------
    ValueError
        When the greedy selection stalls before reaching the tolerance.
    """
    tolerance = basis.tolerance if tolerance is None else tolerance
    functions, exact = basis.functions, basis.integrals
    ids = np.arange(functions.shape[0]) if point_ids is None else np.asarray(point_ids, dtype=np.int64)
    position = {int(point): index for index, point in enumerate(ids)}  # global id -> row of this rank
    starting = [] if start is None else [int(point) for point in start]
    gathered: dict[int, np.ndarray] = {}
    for owned in _gather(comm, {point: functions[position[point]] for point in starting if point in position}):
        gathered.update(owned)
    rows = {point: gathered[point] for point in starting}  # global id -> basis row (on every rank), as start_weights
    budget = max_points or basis.rank + 10 + len(rows)
    fit = _WeightFit(exact, rows, start_weights)
    # single precision: the score only ranks the candidates (the weights are fitted in double), and the product of
    # every candidate's row with the residual, read from memory at each step, is the greedy loop's largest cost
    directions = (functions / np.linalg.norm(functions, axis=1).clip(1e-300)[:, None]).astype(np.float32)
    taken = _taken(fit.rows, position, functions.shape[0])  # this rank's selected points
    while np.linalg.norm(fit.residual) > tolerance * np.linalg.norm(exact):
        if len(fit.rows) >= budget:
            raise ValueError(
                f"empirical cubature stalled at relative error {np.linalg.norm(fit.residual) / np.linalg.norm(exact):.2e} with {len(fit.rows)} points"
            )
        score = directions @ fit.residual.astype(np.float32)
        score[taken] = -np.inf
        best = int(np.argmax(score)) if score.size else -1
        offers = _gather(comm, (float(score[best]), int(ids[best]), functions[best]) if best >= 0 else (-np.inf, -1, None))
        _, point, row = max(offers, key=lambda offer: (offer[0], -offer[1]))
        selected = len(fit.rows)
        fit.add(point, row)
        if len(fit.rows) == selected + 1:  # the point joined and none left
            if point in position:
                taken[position[point]] = True
        else:
            taken = _taken(fit.rows, position, functions.shape[0])
    error = float(np.linalg.norm(fit.residual) / np.linalg.norm(exact))
    return Cubature(np.array(list(fit.rows), dtype=np.int64), fit.weights, error)


def empirical_cubature(
    integrands: np.ndarray,
    weights: np.ndarray,
    tolerance: float = 1e-5,
    max_points: int | None = None,
    start: np.ndarray | None = None,
    comm: Any = None,
    point_ids: np.ndarray | None = None,
) -> Cubature:
    """Points and weights ``w_z >= 0`` with ``sum_z w_z f(x_z) ~ sum_g w_g f(x_g)`` for every column ``f`` of ``integrands``:
    :func:`compress_integrands` then :func:`select_points`.

    Parameters
    ----------
    integrands
        Values (n_points, n_functions) at every integration point (under MPI: at this rank's points).
    weights
        Full quadrature weights (n_points,), Jacobians included.
    tolerance
        Relative truncation of the integrands' span, and relative error allowed on the vector of its integrals.
    max_points, start, comm, point_ids
        As for :func:`select_points`.

    Raises
    ------
    ValueError
        For a tolerance <= 0, or when the greedy selection stalls before reaching the tolerance.
    """
    basis = compress_integrands(integrands, weights, tolerance, comm)
    return select_points(basis, max_points=max_points, start=start, comm=comm, point_ids=point_ids)


def _taken(rows: dict[int, np.ndarray], position: dict[int, int], n_points: int) -> np.ndarray:
    """The mask of this rank's points among the selected ``rows`` (global ids; ``position``: id -> this rank's row)."""
    taken = np.zeros(n_points, dtype=bool)
    taken[[position[point] for point in rows if point in position]] = True
    return taken


def _gather(comm: Any, item: Any) -> list:
    """Every rank's ``item`` (a one-element list for a serial run)."""
    return [item] if comm is None else comm.allgather(item)


class _WeightFit:
    """Non-negative weights of the selected points for the exact integrals, kept at the least-squares optimum on the
    points of positive weight (Lawson & Hanson's passive set).

    Adding a point inserts its row into an economic QR factorisation of the selected rows
    (:func:`scipy.linalg.qr_insert`) and runs Lawson & Hanson's inner loop from the current weights: the
    least-squares weights if all positive, else a step towards them as far as the weights stay non-negative, the
    points whose weight vanishes deleted from the factorisation (:func:`scipy.linalg.qr_delete`), and again. A step
    costs O(rows x points). SciPy's NNLS from scratch is the fallback (a near-singular factorisation, more points
    than functions, the new point dropped at once).
    """

    def __init__(self, exact: np.ndarray, rows: dict[int, np.ndarray], weights: np.ndarray | None = None) -> None:
        self.exact = exact
        self.rows: dict[int, np.ndarray] = dict(rows)
        self.weights = np.zeros(0)
        self.residual = exact.copy()
        self.factor: tuple[np.ndarray, np.ndarray] | None = None  # economic QR of the selected rows, while it exists
        if not rows:
            return
        if weights is not None and len(rows) <= exact.size:  # warm start from earlier non-negative weights
            self.factor = scipy.linalg.qr(self._matrix(), mode="economic")
            self.weights = np.asarray(weights, dtype=float).copy()
            if self._descend():
                return
        self._nnls()

    def add(self, point: int, row: np.ndarray) -> None:
        """Select ``point`` (its basis row ``row``) and re-solve the weights."""
        k, factor = len(self.rows), self.factor
        self.rows[point] = row
        if k < self.exact.size and (k == 0 or factor is not None):
            if factor is None:
                self.factor = scipy.linalg.qr(row[:, None], mode="economic")
            else:
                self.factor = scipy.linalg.qr_insert(factor[0], factor[1], row, k, which="col", check_finite=False)
            self.weights = np.append(self.weights, 0.0)
            if self._descend(new=point):
                return
        self._nnls()

    def _matrix(self) -> np.ndarray:
        return np.array(list(self.rows.values())).T

    def _descend(self, new: int | None = None) -> bool:
        """Lawson & Hanson's inner loop from the current non-negative weights; False when it cannot go on (the
        factorisation is near singular, or the point ``new`` is dropped at once)."""
        while True:
            assert self.factor is not None
            q, r = self.factor
            diagonal = np.abs(np.diag(r))
            if not diagonal.min() > 1e-10 * diagonal.max():
                return False
            projected = q.T @ self.exact
            target = scipy.linalg.solve_triangular(r, projected, check_finite=False)
            negative = target <= 0.0
            if not negative.any():
                break
            ratios = self.weights[negative] / (self.weights[negative] - target[negative])
            self.weights = self.weights + ratios.min() * (target - self.weights)
            drop = np.flatnonzero(negative)[ratios <= ratios.min() * (1.0 + 1e-12)]
            points = list(self.rows)
            if new is not None and new in (points[d] for d in drop):
                return False
            for column in drop[::-1]:
                q, r = scipy.linalg.qr_delete(q, r, column, 1, which="col", check_finite=False)
                self.factor = q, r
                del self.rows[points[column]]
            self.weights = np.delete(self.weights, drop)
        self.weights = target
        self.residual = self.exact - q @ projected  # the rows times the least-squares weights: Q Q^T exact
        return True

    def _nnls(self) -> None:
        """NNLS from scratch on the selected rows, keeping the points of positive weight."""
        matrix = self._matrix()
        weights, _ = nnls(matrix, self.exact, maxiter=50 * len(self.rows))
        keep = weights > 0.0
        self.rows = {point: row for (point, row), k in zip(self.rows.items(), keep, strict=True) if k}
        self.weights = weights[keep]
        kept = matrix[:, keep]
        self.residual = self.exact - kept @ self.weights
        self.factor = scipy.linalg.qr(kept, mode="economic") if 0 < kept.shape[1] <= kept.shape[0] else None


def qdeim_points(basis: np.ndarray) -> np.ndarray:
    """QDEIM interpolation points of a basis (n, N): the first N pivots of a column-pivoted QR of its transpose."""
    _, _, pivots = scipy.linalg.qr(basis.T, mode="economic", pivoting=True)
    return np.sort(pivots[: basis.shape[1]])
