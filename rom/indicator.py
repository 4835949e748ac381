"""The error indicator: Gappy-POD of the cumulated plasticity at the reduced points.

The online model knows ``p`` only at its reduced points ``R``. If the POD basis ``Psi_p`` of ``p`` still
describes the solution, ``p[R]`` is fitted well by ``Psi_p[R] gamma``; when the solution leaves the span of
the training data, the least-squares residual grows. The indicator
``||Psi_p[R] gamma_p - p[R]|| / ||p[R]||`` costs O(|R| N_p^2), independent of the mesh. The same fit
reconstructs any dual quantity at every integration point (``Psi gamma``) when the full state is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class GappyPOD:
    """A basis (n_points, N) restricted to the rows ``points``, for fits from values at those points.

    Under MPI ``basis`` holds this rank's rows and ``restricted`` (the rows at ``points``, gathered from
    the ranks that hold them) must be given; :meth:`reconstruct` then returns this rank's rows.
    """

    basis: np.ndarray
    points: np.ndarray
    restricted: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.restricted is None:
            self.restricted = self.basis[self.points]

    def coefficients(self, values: np.ndarray) -> np.ndarray:
        """Least-squares coefficients of values (|R|,) or (|R|, k) at the points."""
        assert self.restricted is not None  # set in __post_init__
        return np.linalg.lstsq(self.restricted, values, rcond=None)[0]

    def reconstruct(self, values: np.ndarray) -> np.ndarray:
        """The field at every point from its values at the restricted points."""
        return self.basis @ self.coefficients(values)

    def indicator(self, values: np.ndarray) -> float:
        """``||Psi[R] gamma - v|| / ||v||`` (0 when ``v`` is 0: nothing to fit)."""
        norm = float(np.linalg.norm(values))
        if norm == 0.0 or self.basis.shape[1] == 0:
            return 0.0 if norm == 0.0 else 1.0
        return float(np.linalg.norm(self.restricted @ self.coefficients(values) - values) / norm)
