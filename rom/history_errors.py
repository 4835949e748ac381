"""The adaptive ROM's errors against a full-model history, measured step by step (as ``AdaptiveROM.run``'s callback)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from rom.online import AdaptiveROM, OnlineStep
from rom.parallel.layout import Layout


class HistoryErrors:
    """Each step of a ROM run against the same increment of a full-model history (``reference``, this rank's rows,
    as the distributed full model holds them), measured when the step is taken (a later enrichment changes the bases):

    - ``u``, ``p``: the displacement error (mass norm) and the ``p`` error (quadrature norm) relative to the largest
      norm over the reference history (the unloaded end state is nearly zero);
    - ``true``: what the error estimate estimates, the larger of both errors each relative to the larger of the
      training's size (``offline.scales``) and the largest reference norm so far;
    - ``indicators``: the step's estimate; ``checking``: the seconds spent here (not online work).
    """

    def __init__(self, rom: AdaptiveROM, reference: list[Any], layout: Layout, mass: Any) -> None:
        self.rom, self.reference, self.layout, self.mass = rom, reference, layout, mass
        self.weights = layout.space.weights.ravel()
        self.u: list[float] = []
        self.p: list[float] = []
        self.true: list[float] = []
        self.indicators: list[float] = []
        self.checking = 0.0
        self.sizes = [rom.offline.scales.get("displacement", 0.0), rom.offline.scales.get("p", 0.0)]
        self.u_scale = max((self.norm(inc.displacement) for inc in reference), default=0.0) or 1.0
        self.p_scale = max((self.point_norm(inc.state.cumulated_plasticity) for inc in reference), default=0.0) or 1.0

    def norm(self, dof_rows: np.ndarray) -> float:
        """Mass norm of a displacement (this rank's rows, summed over the ranks)."""
        return float(np.sqrt(self.layout.sum(dof_rows @ (self.mass @ dof_rows))))

    def point_norm(self, values: np.ndarray) -> float:
        """Quadrature norm of a scalar field at the integration points (this rank's, summed over the ranks)."""
        return float(np.sqrt(self.layout.sum(np.sum(self.weights * values**2))))

    def compare(self, index: int, step: OnlineStep) -> None:
        """Record step ``index`` against the reference's increment ``index``."""
        began = time.perf_counter()
        truth, layout, offline = self.reference[index], self.layout, self.rom.offline
        u_error = self.norm(offline.modes[:, : step.coordinates.size] @ step.coordinates - truth.displacement)
        p_error = self.point_norm(self.rom.p_fit.reconstruct(step.p_reduced) - truth.state.cumulated_plasticity)
        self.u.append(u_error / self.u_scale)
        self.p.append(p_error / self.p_scale)
        sizes = self.sizes
        sizes[0] = max(sizes[0], self.norm(truth.displacement))
        sizes[1] = max(sizes[1], self.point_norm(truth.state.cumulated_plasticity))
        self.true.append(max(u_error / sizes[0] if sizes[0] else 0.0, p_error / sizes[1] if sizes[1] else 0.0))
        self.indicators.append(step.indicator)
        layout.synchronize()  # a rank's share of this check must not show up as another's online time
        self.checking += time.perf_counter() - began

    def largest(self, name: str) -> float:
        """The largest of ``u`` or ``p`` (nan before any step)."""
        values = getattr(self, name)
        return max(values) if values else float("nan")
