"""Plots and VTU output of the ROM runs."""

from __future__ import annotations

import numpy as np


def _figure(ncols: int = 1):
    import matplotlib.pyplot as plt

    return plt.subplots(1, ncols, figsize=(6 * ncols, 4), squeeze=False)


def plot_indicator(times: np.ndarray, runs: dict):
    """Estimated and true relative error per increment, for each variant."""
    figure, axes = _figure(len(runs))
    for axis, (label, run) in zip(axes[0], runs.items(), strict=True):
        axis.semilogy(times, np.maximum(run["indicator"], 1e-16), "o-", ms=3, label="estimated error (indicator)")
        axis.semilogy(times, np.maximum(run["true_error"], 1e-16), "s--", ms=3, label="true relative error (u, p)")
        enriched = [t for t, s in zip(times, run["steps"], strict=True) if s.enriched]
        if enriched:
            axis.vlines(enriched, *axis.get_ylim(), colors="tab:gray", lw=0.8, label="enrichment")
        axis.set_xlabel("time (s)")
        axis.set_title(f"{label} ROM")
        axis.legend()
    figure.tight_layout()
    return figure


def plot_errors(times: np.ndarray, runs: dict):
    """Relative displacement and p errors against time for each variant."""
    figure, axes = _figure(2)
    for label, run in runs.items():
        axes[0, 0].semilogy(times, np.maximum(run["displacement_error"], 1e-16), "o-", ms=3, label=label)
        axes[0, 1].semilogy(times, np.maximum(run["p_error"], 1e-16), "o-", ms=3, label=label)
    for axis, name in zip(axes[0], ("displacement", "cumulated plasticity p"), strict=True):
        axis.set_xlabel("time (s)")
        axis.set_ylabel(f"relative L2 error of {name}")
        axis.legend()
    figure.tight_layout()
    return figure


def plot_singular_values(singular_values: np.ndarray, kept: int):
    """Normalised POD singular values of the training displacements, with the truncation."""
    figure, axes = _figure()
    axis = axes[0, 0]
    axis.semilogy(np.arange(1, singular_values.size + 1), singular_values / singular_values[0], "o-", ms=3)
    axis.axvline(kept + 0.5, color="tab:red", lw=0.8, label=f"{kept} modes kept")
    axis.set_xlabel("index")
    axis.set_ylabel("sigma_k / sigma_1")
    axis.set_title("POD of the training displacements")
    axis.legend()
    figure.tight_layout()
    return figure


def write_reduced_points(ctx, mesh, space, runs: dict) -> None:
    """``reduced_points.vtu``: per element, how many reduced points it holds before and after enrichment."""
    from rom.mesh import write_vtu

    per_element = space.weights.shape[1]
    cell_data = {}
    for label, run in runs.items():
        cell_data[f"reduced_points_initial_{label}"] = np.bincount(run["initial_points"] // per_element, minlength=mesh.n_cells).astype(
            float
        )
        cell_data[f"reduced_points_final_{label}"] = np.bincount(
            run["rom"].offline.cubature.points // per_element, minlength=mesh.n_cells
        ).astype(float)
    path = ctx.out_dir / "reduced_points.vtu"
    write_vtu(path, mesh, {}, cell_data)
    ctx.artifacts.append(path)


def plot_campaign(records: dict[str, np.ndarray], tolerance: float):
    """The campaign's learning curve: enrichments per loading, and the estimated and (where verified) true errors."""
    figure, axes = _figure(2)
    loadings = np.arange(1, records["enrichments"].size + 1)
    axes[0, 0].bar(loadings, records["enrichments"], color="tab:blue")
    axes[0, 0].set_ylabel("enrichments")
    axis = axes[0, 1]
    axis.semilogy(loadings, np.maximum(records["estimated_error"], 1e-16), "o-", ms=3, label="largest estimated error")
    verified = records["verified"] > 0
    for name, label in (("error_displacement", "displacement error (verified)"), ("error_p", "p error (verified)")):
        axis.semilogy(loadings[verified], np.maximum(records[name][verified], 1e-16), "s", ms=4, label=label)
    axis.axhline(tolerance, color="tab:red", lw=0.8, ls=":", label="tolerance")
    axis.set_ylabel("relative error")
    axis.legend()
    for axis in axes[0]:
        axis.set_xlabel("loading")
    figure.tight_layout()
    return figure
