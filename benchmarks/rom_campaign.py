"""The adaptive ROM over a campaign of unseen loadings: errors, enrichments and the campaign speed-up.

    python benchmarks/rom_campaign.py [--loadings 100] [--verify-every 1] [--mesh 8,2,10] [--training case|corners]
                                      [--set FIELD=VALUE ...]

Runs ``cases/rom_campaign.yaml`` on ``--loadings`` draws of the tip and root temperatures and the rotation speed,
trained once on the case's 1000 K tip (``--training case``) or on the family's corners (``--training corners``:
the 8 loadings at the ends of the three ranges, ``training.loadings``), verifying every ``--verify-every``-th
loading against the full model, and
prints the campaign in blocks of loadings: enrichments, largest estimated and true errors, ROM and full-model time;
then the campaign's speed-up (full-model time of every loading, taken as the verified loadings' mean, over the ROM's
time, enrichments included) and the offline time (training solves and reduction, not in the speed-up). Wall times
of one run: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import itertools
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from adaptsim.cases import load_case, run_case
from adaptsim.results import load_results

CASE = Path(__file__).resolve().parents[1] / "cases" / "rom_campaign.yaml"
#: the hottest point (tip + 100 K stripe) stays inside the material tables (1273 K)
FAMILY = {
    "temperature.parameters.T_tip": (1000.0, 1170.0),
    "temperature.parameters.T_root": (450.0, 550.0),
    "rotation.speed": (900.0, 1100.0),
}


def flow(mapping: dict[str, Any]) -> str:
    """A mapping as a YAML flow mapping for ``--set`` (tuples as lists)."""
    return "{" + ", ".join(f"{key}: {list(value) if isinstance(value, tuple) else value}" for key, value in mapping.items()) + "}"


def corners(family: dict[str, tuple[float, float]]) -> list[dict[str, float]]:
    """The loadings at the ends of every range of ``family`` (2^k of them)."""
    return [dict(zip(family, ends, strict=True)) for ends in itertools.product(*family.values())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loadings", type=int, default=100)
    parser.add_argument("--verify-every", type=int, default=1)
    parser.add_argument("--mesh", default="8,2,10", help="blade divisions (default: the bundled case's)")
    parser.add_argument("--block", type=int, default=10, help="loadings per table row")
    parser.add_argument(
        "--training", choices=("case", "corners"), default="case", help="train on the case's loading or on the family's corners"
    )
    parser.add_argument("--out", default=None, help="keep the run's folder here (default: a temporary one)")
    parser.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE", help="further case overrides (e.g. tolerances.cubature=1e-5)"
    )
    args = parser.parse_args()
    os.environ.setdefault("ADAPTSIM_QUIET", "1")
    overrides = [
        f"mesh.divisions=[{args.mesh}]",
        "campaign.loadings=[]",
        f"campaign.draws={args.loadings}",
        f"campaign.family={flow(FAMILY)}",
        f"campaign.verify_every={args.verify_every}",
        *(
            ["training.fields=[]", f"training.loadings=[{', '.join(flow(c) for c in corners(FAMILY))}]"]
            if args.training == "corners"
            else []
        ),
        *args.set,
    ]
    with tempfile.TemporaryDirectory() as scratch:
        ctx = run_case(load_case(CASE, overrides), args.out or scratch)
        results = load_results(ctx.result_path)
    records, summary = results.data["loading"], results.attrs["summary"]
    verified = records["verified"] > 0
    table = Table(
        title=f"blade [{args.mesh}], trained on {args.training}: the adaptive ROM over {args.loadings} unseen loadings (tolerance {summary['tolerance']:g})"
    )
    for column in ("loadings", "enrichments", "largest estimate", "largest error u / p (verified)", "ROM (s)", "full model (s, verified)"):
        table.add_column(column, justify="right")
    for start in range(0, records["enrichments"].size, args.block):
        block = slice(start, start + args.block)
        checked = verified[block]
        errors = (
            f"{100 * records['error_displacement'][block][checked].max():.2f} % / {100 * records['error_p'][block][checked].max():.2f} %"
            if checked.any()
            else "-"
        )
        table.add_row(
            f"{start + 1}-{min(start + args.block, records['enrichments'].size)}",
            f"{int(records['enrichments'][block].sum())}",
            f"{records['estimated_error'][block].max():.2e}",
            errors,
            f"{records['rom_time_s'][block].sum():.2f}",
            f"{np.nansum(records['full_model_time_s'][block]):.2f}",
        )
    console = Console(width=200)
    console.print(table)
    console.print(
        f"{summary['n_loadings']} loadings ({summary['n_verified']} verified), {summary['n_enrichments']} enrichments, "
        f"{summary['n_modes_final']} modes and {summary['n_reduced_points_final']} reduced points at the end; largest errors "
        f"{100 * summary.get('max_error_displacement', np.nan):.2f} % (u), {100 * summary.get('max_error_p', np.nan):.2f} % (p); "
        f"ROM {summary['rom_time_s']:.1f} s; campaign speed-up {summary.get('campaign_speedup', np.nan):.1f}x "
        f"(offline, not counted: training solves {summary.get('time_training_s', np.nan):.1f} s, reduction "
        f"{summary.get('time_reduction_s', np.nan):.1f} s)"
    )


if __name__ == "__main__":
    main()
