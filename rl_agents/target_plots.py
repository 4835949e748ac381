"""The picture of policies on the target-accuracy task: success rate against mean cost, one panel per target ``eps``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from rl_agents.target_evaluation import Outcomes, cost_ci, success_ci


def plot_success_against_cost(outcomes: Mapping[float, Mapping[str, Outcomes]], seed: int = 0) -> Any:
    """The figure: per target ``eps`` (a key of ``outcomes``), every policy of ``outcomes[eps]`` as a point (mean
    cost, success rate at ``eps``) with its 95 % bootstrap intervals on both axes."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    rng = np.random.default_rng(seed)
    figure, axes = plt.subplots(1, len(outcomes), figsize=(4.2 * len(outcomes), 4.6), sharey=True, squeeze=False)
    markers = "osD^v<>ph*"
    for axis, (eps, policies) in zip(axes[0], outcomes.items(), strict=True):
        for index, (label, outcome) in enumerate(policies.items()):
            rate, low, high = success_ci(outcome, eps, rng)
            cost, cost_low, cost_high = cost_ci(outcome, rng)
            axis.errorbar(
                cost,
                rate,
                xerr=[[cost - cost_low], [cost_high - cost]],
                yerr=[[rate - low], [high - rate]],
                marker=markers[index % len(markers)],
                capsize=3,
                linestyle="none",
                label=label,
            )
        axis.set_title(f"target eps = {eps:g}")
        axis.set_xlabel("mean cost (thousands of weighted force evaluations)")
        axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value / 1000:g}"))
        axis.grid(alpha=0.3)
    axes[0][0].set_ylabel("success rate (final dE <= eps)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=8, frameon=False)
    figure.tight_layout(rect=(0.0, 0.06 * (1 + (len(labels) - 1) // 4), 1.0, 1.0))
    return figure
