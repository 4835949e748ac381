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

A third part looks back: the error of ``p`` (and of the creep strain it drives) is made while the material flows, and
it stays after the stress error that made it has gone (at unloading). ``history`` is the mean of the stress part
over the run so far, each increment weighted by how far ``p`` moved at the reduced points in it.

The estimate is the largest part times its weight (:data:`UNCALIBRATED`: the stress and ``p`` parts as they are),
or, in a run that enriched, the error its full-model steps inherited from the reduced states they started from, if
larger. Enrichment is decided on what an enrichment can remove (:meth:`ErrorEstimator.model_error`).
:func:`calibrate` fits the weights to the true errors of runs on loadings the ROM was not trained on (the offline
calibration runs), so that the estimate is in the units of the true error, as the tolerance is.
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


#: The weights of an estimate that was not calibrated: the stress and ``p`` parts as they are, the history part unused.
UNCALIBRATED: dict[str, float] = {"stress": 1.0, "p": 1.0, "history": 0.0}


class ErrorEstimator:
    """Estimated relative error of a reduced solution, increment by increment, from the Gappy-POD fits of its dual
    quantities and the run's history.

    Parameters
    ----------
    scales
        Per quantity, the training data's largest quadrature norm (0: unknown; the run's own sizes are then the only
        reference).
    weights
        Per part (``stress``, ``p``, ``history``), its factor in the estimate (default :data:`UNCALIBRATED`).
    """

    def __init__(self, scales: dict[str, float], weights: dict[str, float] | None = None) -> None:
        self.scales = dict(scales)
        given = UNCALIBRATED if weights is None else weights
        self.weights = {name: given[name] for name in UNCALIBRATED}
        self.largest = dict.fromkeys(scales, 0.0)
        self.carried = 0.0
        self._previous: np.ndarray | None = None
        self._flow = 0.0
        self._weighted = 0.0

    def restart(self, inherited: float) -> None:
        """After a full-model step: its increment adds no error, but it started from the reduced state before it,
        whose error (``inherited``, that state's estimate) it keeps (the plastic part of it for good). The history
        starts afresh (the next increment's ``p`` counts as flow from zero, made without error), and the error
        inherited is carried in the estimate from now on (the largest of those inherited so far)."""
        self.carried = max(self.carried, inherited)
        self._previous = None
        self._flow = 0.0
        self._weighted = 0.0

    def estimate(self, fits: dict[str, GappyPOD], values: dict[str, np.ndarray]) -> dict[str, float]:
        """The parts of the estimate for the next increment (call once per increment, in order): per quantity,
        relative residual x fitted size / reference size (the reference grows with the run's sizes); and
        ``history``, the stress part averaged over the increments so far, weighted by the change of ``p`` at the
        reduced points in each."""
        parts = {}
        for name, fit in fits.items():
            if fit.basis.shape[1] == 0:  # nothing to fit with: all of a nonzero quantity is error
                parts[name] = float(np.any(values[name] != 0.0))
                continue
            residual, size = fit.fit(values[name])
            self.largest[name] = max(self.largest[name], size)
            reference = max(self.scales[name], self.largest[name])
            parts[name] = residual * size / reference if reference > 0.0 else residual
        plasticity = values["p"]
        flow = float(np.linalg.norm(plasticity if self._previous is None else plasticity - self._previous))
        self._previous = plasticity.copy()
        self._flow += flow
        self._weighted += flow * parts["stress"]
        parts["history"] = self._weighted / self._flow if self._flow > 0.0 else 0.0
        return parts

    def model_error(self, parts: dict[str, float]) -> float:
        """The error the reduced model makes now, the part of the estimate a full-model step can remove: the
        largest of the stress and ``p`` parts times their weights."""
        return max(self.weights["stress"] * parts["stress"], self.weights["p"] * parts["p"])

    def total(self, parts: dict[str, float]) -> float:
        """The estimated relative error: the largest part times its weight, or the error carried from before the
        last full-model step if that is larger."""
        return max(float(combined(self.weights, parts_table([parts]))[0]), self.carried)


def parts_table(parts: list[dict[str, float]]) -> np.ndarray:
    """The parts of increments as rows, columns in the order of :data:`UNCALIBRATED`."""
    return np.array([[part[name] for name in UNCALIBRATED] for part in parts], dtype=float).reshape(len(parts), len(UNCALIBRATED))


def combined(weights: dict[str, float], table: np.ndarray) -> np.ndarray:
    """The estimate of each row of a :func:`parts_table`: ``max_k weights[k] table[:, k]``."""
    return np.max(table * np.array([weights[name] for name in UNCALIBRATED]), axis=1)


def calibrate(parts: list[dict[str, float]], truth: np.ndarray, above: float = 1e-3) -> dict[str, float] | None:
    """The weights of the estimate that fit the true errors ``truth`` of the increments whose parts are ``parts``.

    The weights minimise the mean squared log ratio of estimate to truth over the increments with a true error above
    ``above`` (below it, the true error of a ROM is round-off and Newton tolerance, not what the estimate is for):
    the stress weight on a logarithmic grid over four decades around 1, the ``p`` and history weights on the same
    grid or 0. None where no increment is above ``above`` (nothing to calibrate with).
    """
    truth = np.asarray(truth, dtype=float)
    above_it = truth > above
    if not above_it.any():
        return None
    table = parts_table(parts)[above_it]  # (m, 3)
    log_truth = np.log(truth[above_it])
    grid = np.logspace(-2.0, 2.0, 33)
    with_zero = np.concatenate([[0.0], grid])
    best, best_score = None, np.inf
    for stress in grid:
        # every (p, history) pair at once: (m, n, n) estimates
        estimate = np.maximum(
            stress * table[:, 0, None, None],
            np.maximum(with_zero[None, :, None] * table[:, 1, None, None], with_zero[None, None, :] * table[:, 2, None, None]),
        )
        score = np.mean((np.log(np.maximum(estimate, 1e-300)) - log_truth[:, None, None]) ** 2, axis=0)
        index = np.unravel_index(np.argmin(score), score.shape)
        if score[index] < best_score:
            best_score, best = score[index], (stress, with_zero[index[0]], with_zero[index[1]])
    assert best is not None
    return dict(zip(UNCALIBRATED, (float(weight) for weight in best), strict=True))


def worst_factor(estimate: np.ndarray, truth: np.ndarray, above: float = 1e-3) -> float:
    """The largest factor between the estimated and the true error where the true error exceeds ``above`` (nan: never)."""
    where = truth > above
    if not where.any():
        return float("nan")
    return float(np.exp(np.max(np.abs(np.log(np.maximum(estimate[where], 1e-300) / truth[where])))))
