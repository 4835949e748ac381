"""Sparse assembly of element matrices straight into the matrix of the free degrees of freedom.

The sparsity pattern and the position of every element entry in the CSR data array are computed once;
each assembly is then one ``np.bincount``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class FreeDofAssembler:
    """Assemble ``K[free][:, free]`` from element matrices without forming the full matrix.

    Parameters
    ----------
    dofs
        Element degrees of freedom (ne, n_local).
    free
        Boolean mask (n_dofs,) of the unconstrained degrees of freedom.
    """

    def __init__(self, dofs: np.ndarray, free: np.ndarray) -> None:
        self.free_dofs = np.flatnonzero(free)
        renumber = np.full(free.size, -1, dtype=np.int64)
        renumber[self.free_dofs] = np.arange(self.free_dofs.size)
        local = renumber[dofs]  # (ne, n_local), -1 where constrained
        rows = np.broadcast_to(local[:, :, None], local.shape + (local.shape[1],)).ravel()
        cols = np.broadcast_to(local[:, None, :], local.shape + (local.shape[1],)).ravel()
        self._keep = np.flatnonzero((rows >= 0) & (cols >= 0))
        n = self.free_dofs.size
        keys = rows[self._keep] * n + cols[self._keep]
        unique, self._position = np.unique(keys, return_inverse=True)
        self._indices = (unique % n).astype(np.int32)
        self._indptr = np.searchsorted(unique // n, np.arange(n + 1)).astype(np.int32)
        self.shape = (n, n)

    @property
    def nnz(self) -> int:
        """Stored entries of the assembled matrix."""
        return self._indices.size

    def assemble(self, element_matrices: np.ndarray) -> sp.csr_matrix:
        """The CSR matrix of the free dofs from element matrices (ne, n_local, n_local)."""
        data = np.bincount(self._position, element_matrices.reshape(-1)[self._keep], minlength=self.nnz)
        return sp.csr_matrix((data, self._indices, self._indptr), shape=self.shape)
