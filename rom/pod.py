"""Snapshot proper orthogonal decomposition in a given inner product, and basis enrichment.

The correlation matrix ``C = S^T M S`` (the only global operation: an ``Allreduce`` under MPI) gives, by its
eigenvectors ``V``, a basis ``S V`` of the snapshots' directions (eigenvalues above :data:`RANK_CUT` of the largest);
a CholeskyQR2 of ``S V`` in the inner product (:mod:`adaptsim.linalg.orthogonal`) gives an orthonormal ``Q``, the same
on the residual ``S - Q Q^T M S`` adds what the first pass left out (directions below its cut, and the eigenvectors'
error), and the SVD of the snapshots' coefficients ``Q^T M S = U Sigma W^T``
the modes ``Q U`` and singular values, backward stable: each value to round-off of the largest, each mode's angle to
round-off over its gap, as pyMOR's ``qr_svd`` (the plain method of snapshots, ``sqrt`` of the eigenvalues, loses half
the digits; Gram-Schmidt's ``R`` lost 1e-9 on the blade; the SVD of ``R V^T`` with fewer directions carried the
eigenvectors' error, ``eps s_1^2 / (s_k^2 - s_{k+1}^2)``, into the small modes: 9e-7 for a 7th mode where pyMOR's is
1e-10).
Truncation keeps the smallest ``N`` with ``sum_{k<=N} sigma_k^2 >= (1 - eps^2) sum_k sigma_k^2``.
See docs/methods.md; :func:`rom.parallel.layout.distributed_pod` is the same algorithm on distributed rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from adaptsim.linalg.orthogonal import cholesky_qr2, orthonormal_complement

#: Directions of a correlation matrix taken into the basis: eigenvalues above this fraction of the largest (the
#: eigenvectors below are round-off; a second pass on what the first left out takes the next ~6 decades).
RANK_CUT = 1e-13
#: Singular values below this fraction of the largest are not reported, nor kept as modes (as before the second pass:
#: the directions one correlation matrix resolves).
RESOLVED = float(np.sqrt(RANK_CUT))


@dataclass
class PODBasis:
    """Modes (n, N), orthonormal in the inner product, and the singular values of all snapshots."""

    modes: np.ndarray
    singular_values: np.ndarray

    @property
    def n_modes(self) -> int:
        """Number of kept modes."""
        return self.modes.shape[1]


def _coefficients(basis: np.ndarray, vectors: np.ndarray, gram: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``Q^T M X``: the inner products of the basis with the vectors (a block of one Gram matrix, so summed over ranks)."""
    k = basis.shape[1]
    return gram(np.column_stack([basis, vectors]))[:k, k:]


def _directions(block: np.ndarray, gram: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """An orthonormal basis of ``block``'s directions whose correlation eigenvalues are above :data:`RANK_CUT` of the
    largest: CholeskyQR2 of ``block V`` (empty for a zero block)."""
    eigenvalues, vectors = np.linalg.eigh(gram(block))
    eigenvalues, vectors = eigenvalues[::-1], vectors[:, ::-1]
    if not eigenvalues[0] > 0.0:
        return np.zeros((block.shape[0], 0))
    rank = int(np.sum(eigenvalues > RANK_CUT * eigenvalues[0]))
    return cholesky_qr2(block @ vectors[:, :rank], gram=gram)[0]


def pod(
    snapshots: np.ndarray,
    inner: Any = None,
    tolerance: float = 1e-4,
    max_modes: int | None = None,
    gram: Callable[[np.ndarray], np.ndarray] | None = None,
) -> PODBasis:
    """Snapshot POD of the columns of ``snapshots`` (n, m).

    Parameters
    ----------
    snapshots
        One snapshot per column (under MPI: this rank's rows).
    inner
        Inner-product matrix (e.g. the mass matrix, or ``scipy.sparse.diags(weights)``), None for Euclidean.
    tolerance
        ``eps``: the discarded part of the snapshot energy is at most ``eps^2`` of the total.
    max_modes
        Upper bound on the number of modes.
    gram
        ``X -> X^T M X`` (overrides ``inner``; the distributed version sums it over ranks).

    Returns
    -------
    PODBasis
        Modes and the singular values of every numerically independent snapshot direction (descending).
    """
    if not tolerance > 0.0:
        raise ValueError(f"POD tolerance must be > 0, got {tolerance}")
    snapshots = np.asarray(snapshots, dtype=float)
    gram = gram or (lambda block: block.T @ (block if inner is None else np.asarray(inner @ block)))
    basis = _directions(snapshots, gram)
    if not basis.shape[1]:
        return PODBasis(np.zeros((snapshots.shape[0], 0)), np.zeros(0))
    residual = snapshots - basis @ _coefficients(basis, snapshots, gram)
    more = _directions(residual, gram)  # what the first pass missed: directions below its cut, eigenvectors' error
    if more.shape[1]:
        basis, _ = cholesky_qr2(np.column_stack([basis, more - basis @ _coefficients(basis, more, gram)]), gram=gram)
    left, singular_values, _ = np.linalg.svd(_coefficients(basis, snapshots, gram), full_matrices=False)
    singular_values = singular_values[singular_values > RESOLVED * singular_values[0]]
    energy = singular_values**2
    kept = int(np.searchsorted(np.cumsum(energy), (1.0 - tolerance**2) * energy.sum()) + 1)
    kept = min(kept, singular_values.size, max_modes or kept)
    return PODBasis(basis @ left[:, :kept], singular_values)


def enrich(modes: np.ndarray, vectors: np.ndarray, inner: Any = None, tolerance: float = 1e-8, comm: Any = None) -> tuple[np.ndarray, int]:
    """Add the parts of ``vectors`` (n,) or (n, k) orthogonal to span(modes); returns the new basis and how many were added.

    A vector already in the span (relative remainder below ``tolerance``) is dropped. Under MPI (``comm``),
    ``modes`` and ``vectors`` are this rank's rows and ``inner`` its block of the inner product.
    """
    vectors = np.asarray(vectors, dtype=float).reshape(modes.shape[0], -1)
    added = 0
    for column in vectors.T:
        direction = orthonormal_complement(modes, column, M=inner, tol=tolerance, comm=comm)
        if direction is not None:
            modes = np.column_stack([modes, direction])
            added += 1
    return modes, added
