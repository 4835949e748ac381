"""The error indicator: Gappy-POD of dual quantities (stress, cumulated plasticity) at the reduced points.

The online model knows a dual quantity ``q`` (the stress, the cumulated plasticity ``p``) only at its reduced
points ``R``. If the POD basis ``Psi`` of ``q`` still describes the solution, ``q[R]`` is fitted well by
``Psi[R] gamma``; when the solution leaves the span of the training data, the least-squares residual grows. The
relative residual ``||Psi[R] gamma - q[R]|| / ||q[R]||`` costs O(|R| N^2), independent of the mesh. The same fit
reconstructs ``q`` at every integration point (``Psi gamma``) when the full state is needed.

:class:`ErrorEstimator` turns the residuals into an estimated relative error of the reduced solution: each relative
residual scaled by the fitted field's size (``||gamma||``: the modes are orthonormal in the quadrature inner product,
so this is the field's quadrature norm) over the reference size ``max(training scale, largest size seen in the run)``.
The stress sees every kind of change (temperature, rotation, hold time); ``p`` sees the plastic history. Relative to
the reference size, a quantity near zero (``p`` early in a ramp) cannot raise a false alarm.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass
class GappyPOD:
    """A basis (n_points, N) restricted to the rows ``points``, for fits from values at those points.

    Under MPI ``basis`` holds this rank's rows and ``restricted`` (the rows at ``points``, gathered from
    the ranks that hold them) must be given; :meth:`reconstruct` then returns this rank's rows.

    The least-squares solution operator (the pseudo-inverse of the restricted basis, with ``lstsq``'s cut-off of
    small singular values) is computed at the first fit and reused: a fit is then one product of O(|R| N), not a
    factorisation of O(|R| N^2) at every online increment.
    """

    basis: np.ndarray
    points: np.ndarray
    restricted: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.restricted is None:
            self.restricted = self.basis[self.points]

    @cached_property
    def _solution_operator(self) -> np.ndarray:
        """``pinv(Psi[R])`` (N, |R|), singular values below ``eps max(|R|, N)`` of the largest cut as ``lstsq`` does."""
        assert self.restricted is not None  # set in __post_init__
        return np.linalg.pinv(self.restricted, rcond=np.finfo(float).eps * max(self.restricted.shape))

    def coefficients(self, values: np.ndarray) -> np.ndarray:
        """Least-squares coefficients of values (|R|,) or (|R|, k) at the points."""
        return self._solution_operator @ values

    def reconstruct(self, values: np.ndarray) -> np.ndarray:
        """The field at every point from its values at the restricted points."""
        return self.basis @ self.coefficients(values)

    def indicator(self, values: np.ndarray) -> float:
        """``||Psi[R] gamma - v|| / ||v||`` (0 when ``v`` is 0: nothing to fit)."""
        return self.fit(values)[0]

    def fit(self, values: np.ndarray) -> tuple[float, float]:
        """The relative residual ``||Psi[R] gamma - v|| / ||v||`` (0 for ``v = 0``, 1 for an empty basis) and ``||gamma||``."""
        norm = float(np.linalg.norm(values))
        if norm == 0.0 or self.basis.shape[1] == 0:
            return (0.0 if norm == 0.0 else 1.0), 0.0
        assert self.restricted is not None
        gamma = self.coefficients(values)
        return float(np.linalg.norm(self.restricted @ gamma - values) / norm), float(np.linalg.norm(gamma))


class ErrorEstimator:
    """Estimated relative error of a reduced solution from the Gappy-POD fits of its dual quantities.

    Parameters
    ----------
    scales
        Per quantity, the training data's largest quadrature norm (0: unknown; the run's own sizes are then the only
        reference).
    """

    def __init__(self, scales: dict[str, float]) -> None:
        self.scales = dict(scales)
        self.largest = dict.fromkeys(scales, 0.0)

    def estimate(self, fits: dict[str, GappyPOD], values: dict[str, np.ndarray]) -> dict[str, float]:
        """Per quantity: relative residual x fitted size / reference size; the reference grows with the run's sizes."""
        parts = {}
        for name, fit in fits.items():
            if fit.basis.shape[1] == 0:  # nothing to fit with: all of a nonzero quantity is error
                parts[name] = float(np.any(values[name] != 0.0))
                continue
            residual, size = fit.fit(values[name])
            self.largest[name] = max(self.largest[name], size)
            reference = max(self.scales[name], self.largest[name])
            parts[name] = residual * size / reference if reference > 0.0 else residual
        return parts
