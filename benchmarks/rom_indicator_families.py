"""Does the error estimate rank loadings by their error? Families of loadings the ROM was not trained on.

    python benchmarks/rom_indicator_families.py [--draws 8] [--mesh 8,2,10] [--calibration '[...]'] [--seed 0]

One ROM is trained as ``cases/blade_rom.yaml`` trains it (1000 K tip; with ``--calibration``, its estimate fitted
on those loadings). Per family, ``--draws`` loadings drawn uniformly from the family's range (seeded), each run by
the plain ROM (the ROM file loaded) and the full model. Per family: Spearman's rank correlation over the draws of
the largest estimated error with the largest true error (with a bootstrap 95 % interval over the draws), and the
largest factor between estimate and truth over every increment of every draw where the true error exceeds 0.1 %.

A second table says what the estimate's parts can do at best: per family, the true error over the stress part
(increments above 0.1 %), and the worst factor with the weights fitted to every family's increments at once (in
sample: no weights of these parts do better on these draws).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from rom_loadings import CASE, COOLER, FIELD  # the case and the fields of the six-loading benchmark
from scipy.stats import spearmanr

from adaptsim.cases import load_case, run_case
from adaptsim.results import load_results
from rom.indicator import UNCALIBRATED, calibrate, combined, parts_table, worst_factor

#: family -> (its range, the overrides of one draw)
FAMILIES: dict[str, tuple[tuple[float, float], Callable[[float], list[str]]]] = {
    "tip temperature (K)": ((1020.0, 1170.0), lambda value: [f"loading.temperature.parameters.T_tip={value}"]),
    "mid-span hot spot (+K)": (
        (20.0, 300.0),
        lambda value: [
            COOLER,
            "loading.temperature.expression=" + FIELD.format(f" + {value} * exp(-(((z - z_root) / height - 0.5) / 0.15) ** 2)"),
        ],
    ),
    "chordwise gradient (+K)": (
        (20.0, 250.0),
        lambda value: [COOLER, "loading.temperature.expression=" + FIELD.format(f" + {value} * (x + 0.024) / 0.048")],
    ),
    "rotation speed (rad/s)": ((1010.0, 1200.0), lambda value: [COOLER, f"loading.rotation.speed={value}"]),
    "hold time (s)": ((1100.0, 4000.0), lambda value: [COOLER, f"loading.history.times=[0.0,10.0,{value},{value + 10.0}]"]),
}


def _run(overrides: list[str], keep: Path | None = None) -> tuple[np.ndarray, np.ndarray, list[dict[str, float]]]:
    """The plain ROM's estimated and true errors per increment of one loading, and the parts of its estimate (its ROM
    file copied to ``keep``)."""
    with tempfile.TemporaryDirectory() as out:
        ctx = run_case(load_case(CASE, [*overrides, "variants=plain"]), out)
        if keep is not None:
            shutil.copy(Path(out) / "rom.h5", keep)
        results = load_results(ctx.result_path)
        columns = {name: np.asarray(results[f"plain/indicator_{name}"]) for name in UNCALIBRATED}
        parts = [{name: float(column[index]) for name, column in columns.items()} for index in range(columns["stress"].size)]
        return np.asarray(results["plain/indicator"]), np.asarray(results["plain/true_error"]), parts


def bootstrap_interval(estimates: np.ndarray, truths: np.ndarray, rng: np.random.Generator, n: int = 2000) -> tuple[float, float]:
    """95 % percentile interval of Spearman's correlation over draws resampled with replacement."""
    values = []
    for _ in range(n):
        pick = rng.integers(0, estimates.size, estimates.size)
        if np.ptp(estimates[pick]) > 0 and np.ptp(truths[pick]) > 0:
            values.append(spearmanr(estimates[pick], truths[pick])[0])
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=8)
    parser.add_argument("--mesh", default="8,2,10", help="blade divisions (default: the bundled case's)")
    parser.add_argument("--calibration", default="", help="training.calibration of the ROM (a YAML list); default: none")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.environ["ADAPTSIM_QUIET"] = "1"
    rng = np.random.default_rng(args.seed)
    mesh = f"mesh.divisions=[{args.mesh}]"
    kept = tempfile.TemporaryDirectory()
    rom_file = Path(kept.name) / "rom.h5"
    _run([mesh, *([f"training.calibration={args.calibration}"] if args.calibration else [])], keep=rom_file)
    calibrated = f"calibrated on {args.calibration}" if args.calibration else "uncalibrated"
    table = Table(title=f"blade [{args.mesh}], plain ROM trained on a 1000 K tip, estimate {calibrated}: {args.draws} draws per family")
    for column in ("family", "range", "largest true error (min-max)", "Spearman of the largest (95 % CI)", "estimate / true (worst)"):
        table.add_column(column, justify="right")
    every: dict[str, tuple[np.ndarray, list[dict[str, float]]]] = {}
    for name, ((low, high), overrides) in FAMILIES.items():
        draws = np.round(rng.uniform(low, high, args.draws), 1)
        runs = [_run([mesh, f"training.rom_file={rom_file}", *overrides(float(value))]) for value in draws]
        every[name] = (np.concatenate([t for _, t, _ in runs]), [part for _, _, parts in runs for part in parts])
        largest_estimate = np.array([estimate.max() for estimate, _, _ in runs])
        largest_truth = np.array([truth.max() for _, truth, _ in runs])
        correlation = spearmanr(largest_estimate, largest_truth)[0]
        interval = bootstrap_interval(largest_estimate, largest_truth, rng)
        factor = worst_factor(np.concatenate([e for e, _, _ in runs]), every[name][0])
        table.add_row(
            name,
            f"{low:g}-{high:g}",
            f"{100 * largest_truth.min():.2f}-{100 * largest_truth.max():.2f} %",
            f"{correlation:.2f} ({interval[0]:.2f}-{interval[1]:.2f})",
            f"{factor:.1f}",
        )
    Console(width=200).print(table)
    Console(width=200).print(_what_the_parts_can_do(every))


def _what_the_parts_can_do(every: dict[str, tuple[np.ndarray, list[dict[str, float]]]]) -> Table:
    """Per family: true error / stress part over the increments above 0.1 %, and the worst factor with the weights
    fitted to every family at once."""
    truth = np.concatenate([t for t, _ in every.values()])
    weights = calibrate([part for _, parts in every.values() for part in parts], truth)
    fitted = ", ".join(f"{name} {value:.3g}" for name, value in (weights or {}).items())
    table = Table(title=f"what the parts can do: weights fitted to every family at once ({fitted})")
    for column in ("family", "true / stress part (min, median, max)", "worst factor, weights fitted in sample"):
        table.add_column(column, justify="right")
    for name, (family_truth, parts) in every.items():
        above = family_truth > 1e-3
        ratio = family_truth[above] / np.maximum(parts_table(parts)[above, 0], 1e-300)
        spread = f"{ratio.min():.2f}, {np.median(ratio):.2f}, {ratio.max():.2f}" if above.any() else "-"
        factor = worst_factor(combined(weights, parts_table(parts)), family_truth) if weights else float("nan")
        table.add_row(name, spread, f"{factor:.2f}")
    return table


if __name__ == "__main__":
    main()
