"""Sparse assembly of element matrices straight into the matrix of the free degrees of freedom.

The sparsity pattern and the position of every element entry in the CSR data array are computed once;
each assembly is then one ``np.bincount``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class FreeDofAssembler:
    """Assemble ``K[free][:, free]`` from element matrices without forming the full matrix.

    The pattern is the product of the element-to-dof incidence with its transpose; each element entry's position
    in the CSR data is found by a binary search among the pattern's (row, column) keys, a block of elements at a
    time, so that building it takes a few arrays of the size of the result, not a sort of every element entry.

    Parameters
    ----------
    dofs
        Element degrees of freedom (ne, n_local).
    free
        Boolean mask (n_dofs,) of the unconstrained degrees of freedom.
    """

    #: Elements whose entries are placed at once (bounds the temporary arrays while building).
    BLOCK = 4096

    def __init__(self, dofs: np.ndarray, free: np.ndarray) -> None:
        self.free_dofs = np.flatnonzero(free)
        n = self.free_dofs.size
        renumber = np.full(free.size, -1, dtype=np.int64)
        renumber[self.free_dofs] = np.arange(n)
        local = renumber[dofs]  # (ne, n_local), -1 where constrained
        elements = np.broadcast_to(np.arange(local.shape[0])[:, None], local.shape)
        valid = local >= 0
        incidence = sp.csr_matrix((np.ones(int(valid.sum())), (elements[valid], local[valid])), shape=(local.shape[0], n))
        pattern = (incidence.T @ incidence).tocsr()
        pattern.sort_indices()
        self._indptr, self._indices = pattern.indptr, pattern.indices
        keys = np.repeat(np.arange(n, dtype=np.int64), np.diff(self._indptr)) * n + self._indices
        self.shape = (n, n)
        # position of each element entry in the data array; nnz (one past the end) for a constrained row or column
        self._position = np.empty(local.shape + (local.shape[1],), dtype=np.intp)
        for start in range(0, local.shape[0], self.BLOCK):
            block = local[start : start + self.BLOCK]
            rows, cols = block[:, :, None], block[:, None, :]
            position = np.searchsorted(keys, rows * n + cols)
            position[(rows < 0) | (cols < 0)] = keys.size
            self._position[start : start + self.BLOCK] = position
        self._position = self._position.reshape(-1)

    @property
    def nnz(self) -> int:
        """Stored entries of the assembled matrix."""
        return self._indices.size

    def assemble(self, element_matrices: np.ndarray) -> sp.csr_matrix:
        """The CSR matrix of the free dofs from element matrices (ne, n_local, n_local)."""
        data = np.bincount(self._position, element_matrices.reshape(-1), minlength=self.nnz + 1)[: self.nnz]
        return sp.csr_matrix((data, self._indices, self._indptr), shape=self.shape)
