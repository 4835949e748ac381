"""Whether a policy beats a baseline on the target-accuracy task, from paired bootstrap intervals over seeds.

A *candidate* beats a *baseline* at a target ``eps`` when it meets the baseline's success rate at a lower mean cost,
or reaches a higher success rate at no more cost, the improvement outside its 95 % interval:

- ``success(candidate) >= success(baseline)`` and the upper end of the cost ratio's interval is below 1, or
- the lower end of the success difference's interval is above 0 and the cost ratio is at most 1.

Both intervals resample the same seeds for both policies (paired). The *calibrated fixed choice* at ``eps`` and
level ``p`` is the cheapest fixed choice whose success on the *calibration* seeds is at least ``p`` (what a user
who tuned one fixed choice for their accuracy would run); it is then compared on the held-out seeds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from rl_agents.target_evaluation import Outcomes, bootstrap_ci, cost_ratio_ci


@dataclass(frozen=True)
class Comparison:
    """A candidate against a baseline at one ``eps``: success difference and cost ratio, each ``(value, low, high)``."""

    success_difference: tuple[float, float, float]
    cost_ratio: tuple[float, float, float]

    @property
    def beats(self) -> bool:
        """Same success or more at a cost surely lower, or a success surely higher at no more cost."""
        difference, difference_low, _ = self.success_difference
        ratio, _, ratio_high = self.cost_ratio
        return bool((difference >= 0.0 and ratio_high < 1.0) or (difference_low > 0.0 and ratio <= 1.0))


def success_difference_ci(candidate: Outcomes, baseline: Outcomes, eps: float, rng: np.random.Generator) -> tuple[float, float, float]:
    """Success rate of ``candidate`` minus that of ``baseline`` at ``eps`` (same seeds), with its paired 95 % interval."""
    difference = candidate.success(eps).astype(float) - baseline.success(eps).astype(float)
    low, high = bootstrap_ci(lambda index: float(difference[index].mean()), difference.size, rng)
    return float(difference.mean()), low, high


def compare(candidate: Outcomes, baseline: Outcomes, eps: float, rng: np.random.Generator) -> Comparison:
    """``candidate`` against ``baseline`` at ``eps`` on the same seeds."""
    return Comparison(success_difference_ci(candidate, baseline, eps, rng), cost_ratio_ci(candidate, baseline, rng))


def calibrated_choice(calibration: Mapping[str, Outcomes], eps: float, level: float) -> str | None:
    """The cheapest policy of ``calibration`` whose success at ``eps`` is at least ``level`` (None if none is)."""
    meeting = [label for label, outcome in calibration.items() if outcome.success(eps).mean() >= level]
    return min(meeting, key=lambda label: calibration[label].costs.mean()) if meeting else None


def tuned_choice(calibration: Mapping[str, Outcomes], eps: float, level: float) -> str:
    """The cheapest policy meeting ``level`` at ``eps`` on the calibration seeds, else the most successful one (the
    cheapest among equals): how a hand rule's threshold is tuned."""
    chosen = calibrated_choice(calibration, eps, level)
    if chosen is not None:
        return chosen
    return max(calibration, key=lambda label: (calibration[label].success(eps).mean(), -calibration[label].costs.mean()))
