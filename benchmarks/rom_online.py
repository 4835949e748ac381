"""High-fidelity model against the adaptive ROM on the blade: wall time, speed-up, errors, enrichments.

    python benchmarks/rom_online.py [--sizes small medium]

(Not ``rom.py``: run as a script, that name would shadow the ``rom`` package.)

Runs ``cases/blade_rom.yaml`` (trained on a 1000 K tip, run on a 1150 K tip) on each mesh size and prints,
per variant, the online time for the whole load history and per increment (enrichment steps included), the
speed-up over the high-fidelity solve of the same history, the largest displacement and p errors, the number
of enrichments and of reduced points. The last column compares the plain online time with the smallest
mesh's: the online cost must not grow with the mesh.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from adaptsim.cases import load_case, run_case
from adaptsim.results import load_results

CASE = Path(__file__).resolve().parents[1] / "cases" / "blade_rom.yaml"
SIZES = {"small": "[8,2,10]", "medium": "[14,3,20]", "large": "[18,4,28]"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["small", "medium"], choices=list(SIZES))
    args = parser.parse_args()
    os.environ["ADAPTSIM_QUIET"] = "1"
    table = Table(title="blade: high-fidelity model vs adaptive ROM (whole load history, 22 increments)")
    for column in (
        "mesh",
        "dofs",
        "variant",
        "HF (s)",
        "ROM (s)",
        "ROM per increment (ms)",
        "speed-up",
        "max error u",
        "max error p",
        "enrichments",
        "reduced points",
        "modes",
        "online time / smallest mesh",
    ):
        table.add_column(column, justify="right")
    baseline = None
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as out:
            ctx = run_case(load_case(CASE, [f"mesh.divisions={SIZES[size]}"]), out)
            s = load_results(ctx.result_path).attrs["summary"]
        for variant in ("plain", "enriched"):
            online = s[f"online_time_{variant}_s"]
            baseline = baseline if baseline is not None or variant != "plain" else online
            points = s["n_reduced_points"] if variant == "plain" else s["n_reduced_points_final"]
            modes = s["n_modes"] if variant == "plain" else s["n_modes_final"]
            enrichments = 0 if variant == "plain" else s["n_enrichments"]
            table.add_row(
                size,
                f"{s['n_dofs']}",
                variant,
                f"{s['hifi_time_s']:.2f}",
                f"{online:.3f}",
                f"{1e3 * online / s['n_increments']:.1f}",
                f"{s['hifi_time_s'] / online:.0f}x",
                f"{s[f'error_displacement_{variant}']:.1e}",
                f"{s[f'error_p_{variant}']:.1e}",
                f"{enrichments}",
                f"{points}",
                f"{modes}",
                f"{online / baseline:.2f}" if variant == "plain" else "",
            )
    Console(width=220).print(table)


if __name__ == "__main__":
    main()
