"""Snapshot proper orthogonal decomposition in a given inner product, and basis enrichment.

The snapshots ``S`` are first orthonormalised in the inner product ``M`` (``S = Q R``, Gram-Schmidt with
reorthogonalisation, :mod:`adaptsim.linalg.orthogonal`, dependent snapshots dropped); the SVD of the small
factor ``R = U Sigma V^T`` gives the POD modes ``Q U`` and the singular values. This equals the method of
snapshots (eigenpairs of ``S^T M S``) in exact arithmetic, but keeps singular values accurate to round-off
relative to the largest one instead of its square root. Truncation keeps the smallest ``N`` with
``sum_{k<=N} sigma_k^2 >= (1 - eps^2) sum_k sigma_k^2``. See ../shared/METHODS.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from adaptsim.linalg.orthogonal import gram_schmidt, orthonormal_complement


@dataclass
class PODBasis:
    """Modes (n, N), orthonormal in the inner product, and the singular values of all snapshots."""

    modes: np.ndarray
    singular_values: np.ndarray

    @property
    def n_modes(self) -> int:
        """Number of kept modes."""
        return self.modes.shape[1]


def pod(snapshots: np.ndarray, inner: Any = None, tolerance: float = 1e-4, max_modes: int | None = None) -> PODBasis:
    """Snapshot POD of the columns of ``snapshots`` (n, m).

    Parameters
    ----------
    snapshots
        One snapshot per column.
    inner
        Inner-product matrix (e.g. the mass matrix, or ``scipy.sparse.diags(weights)``), None for Euclidean.
    tolerance
        ``eps``: the discarded part of the snapshot energy is at most ``eps^2`` of the total.
    max_modes
        Upper bound on the number of modes.

    Returns
    -------
    PODBasis
        Modes and the singular values of every independent snapshot direction (descending).
    """
    if not tolerance > 0.0:
        raise ValueError(f"POD tolerance must be > 0, got {tolerance}")
    snapshots = np.asarray(snapshots, dtype=float)
    factor = gram_schmidt(snapshots, M=inner)
    if factor.Q.shape[1] == 0:
        return PODBasis(np.zeros((snapshots.shape[0], 0)), np.zeros(0))
    left, singular_values, _ = np.linalg.svd(factor.R, full_matrices=False)
    energy = singular_values**2
    kept = int(np.searchsorted(np.cumsum(energy), (1.0 - tolerance**2) * energy.sum()) + 1)
    kept = min(kept, singular_values.size, max_modes or kept)
    return PODBasis(factor.Q @ left[:, :kept], singular_values)


def enrich(modes: np.ndarray, vectors: np.ndarray, inner: Any = None, tolerance: float = 1e-8) -> tuple[np.ndarray, int]:
    """Add the parts of ``vectors`` (n,) or (n, k) orthogonal to span(modes); returns the new basis and how many were added.

    A vector already in the span (relative remainder below ``tolerance``) is dropped.
    """
    vectors = np.asarray(vectors, dtype=float).reshape(modes.shape[0], -1)
    added = 0
    for column in vectors.T:
        direction = orthonormal_complement(modes, column, M=inner, tol=tolerance)
        if direction is not None:
            modes = np.column_stack([modes, direction])
            added += 1
    return modes, added
