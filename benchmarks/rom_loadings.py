"""The adaptive ROM on six loadings it was not trained on (or was): errors, enrichments, indicator, speed.

    python benchmarks/rom_loadings.py [--mesh 8,2,10] [--repeat 3] [--calibration '[{temperature.parameters.T_tip: 1100.0}]']

Each loading is ``cases/blade_rom.yaml`` with overrides. The first trains the ROM on a 1000 K tip (the bundled
case's training) and runs it on a 1150 K tip; the next four load that ROM file (``training.rom_file``) and run it on
a loading that differs from its training in one way; the last trains on 1000 K and 1100 K tips and runs at 1050 K. Per loading: the plain and the enriched ROM's largest errors
(displacement, p; relative to the largest norm over the history), the enrichments, Spearman's rank correlation of
the plain ROM's estimated error with its true error per increment and the largest factor between them where the true
error exceeds 0.1 % (of the plain and of the enriched ROM) (and, under the table, Spearman over every increment of every loading), the full model's and the enriched ROM's online time and their ratio, and one
enrichment's time in full-model increments of the same mesh (its parts: full-model increment, cubature update).
With ``--calibration``, the ROMs trained here fit their error estimate's weights on those loadings (each one more
full-model run offline, ``training.calibration``); the loaded ROM file carries them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from scipy.stats import spearmanr

from adaptsim.cases import load_case, run_case
from adaptsim.results import load_results

CASE = Path(__file__).resolve().parents[1] / "cases" / "blade_rom.yaml"
FIELD = "T_ref + load * (T_root - T_ref + (T_tip - T_root) * (z - z_root) / height + 100.0 * exp(-((x / 0.01) ** 2)){})"
COOLER = "loading.temperature.parameters.T_tip=1000.0"  # the training field's tip, for the loadings that change something else
SPOT = " + 250.0 * exp(-(((z - z_root) / height - 0.5) / 0.15) ** 2)"
GRADIENT = " + 200.0 * (x + 0.024) / 0.048"
#: name -> (run with the ROM the first loading trained, overrides of the case)
LOADINGS: dict[str, tuple[bool, list[str]]] = {
    "1150 K tip (the bundled case)": (False, []),
    "mid-span hot spot (+250 K)": (True, [COOLER, "loading.temperature.expression=" + FIELD.format(SPOT)]),
    "chordwise gradient (+200 K)": (True, [COOLER, "loading.temperature.expression=" + FIELD.format(GRADIENT)]),
    "creep hold x 2": (True, [COOLER, "loading.history.times=[0.0,10.0,2010.0,2020.0]"]),
    "rotation + 10 %": (True, [COOLER, "loading.rotation.speed=1100.0"]),
    "inside the training range (1050 K; trained on 1000, 1100 K)": (
        False,
        ["loading.temperature.parameters.T_tip=1050.0", "training.fields=[{T_tip: 1000.0}, {T_tip: 1100.0}]"],
    ),
}


def _run(overrides: list[str], keep: Path | None = None) -> dict:
    """The summary of one run of the case, with the plain ROM's estimated and true errors (its ROM file copied to
    ``keep``, if given)."""
    with tempfile.TemporaryDirectory() as out:
        ctx = run_case(load_case(CASE, overrides), out)
        if keep is not None:
            shutil.copy(Path(out) / "rom.h5", keep)
        results = load_results(ctx.result_path)
        return dict(results.attrs["summary"]) | {"estimates": (results.data["indicator"], results.data["true_error"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mesh", default="8,2,10", help="blade divisions (default: the bundled case's)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds over every loading; times are each one's best")
    parser.add_argument(
        "--calibration",
        default="",
        help="calibration loadings of the ROMs trained here (training.calibration, a YAML list: "
        "'[{temperature.parameters.T_tip: 1100.0}]'); default: none (the estimate uncalibrated)",
    )
    args = parser.parse_args()
    calibration = [f"training.calibration={args.calibration}"] if args.calibration else []
    os.environ["ADAPTSIM_QUIET"] = "1"
    kept = tempfile.TemporaryDirectory()
    rom_file = Path(kept.name) / "rom.h5"
    best: dict[str, dict] = {}
    for round_ in range(args.repeat):  # interleaved: every loading once per round
        for name, (trained, overrides) in LOADINGS.items():
            first = round_ == 0 and name == next(iter(LOADINGS))
            s = _run(
                [f"mesh.divisions=[{args.mesh}]", *([f"training.rom_file={rom_file}"] if trained else calibration), *overrides],
                rom_file if first else None,
            )
            if name not in best:
                best[name] = s
            else:  # the same run again (deterministic errors and enrichments): keep the best times
                for key in ("hifi_time_s", "online_time_enriched_s"):
                    best[name][key] = min(best[name][key], s[key])
                if s["online_time_enriched_s"] <= best[name]["online_time_enriched_s"]:
                    best[name].update({key: value for key, value in s.items() if key.startswith("enrichment_")})
    calibrated = f"estimate calibrated on {args.calibration}" if args.calibration else "estimate uncalibrated"
    table = Table(
        title=f"blade [{args.mesh}]: the adaptive ROM on new loadings (22 increments each; {calibrated}; wall times, best of {args.repeat})"
    )
    columns = (
        "loading",
        "plain error u / p",
        "enriched error u / p",
        "enrichments",
        "Spearman",
        "estimate / true (worst: plain, enriched)",
        "full model (s)",
        "enriched ROM (s)",
    )
    for column in (*columns, "speed-up", "enrichment / increment", "of which full step / cubature"):
        table.add_column(column, justify="right")
    for name, s in best.items():
        increment = s["hifi_time_s"] / s["n_increments"]
        enrichments = s["n_enrichments"]
        per = {part: s[f"enrichment_{part}_s"] / max(enrichments, 1) / increment for part in ("full_model", "bases", "cubature", "rebuild")}
        table.add_row(
            name,
            f"{100 * s['error_displacement_plain']:.2f} % / {100 * s['error_p_plain']:.2f} %",
            f"{100 * s['error_displacement_enriched']:.2f} % / {100 * s['error_p_enriched']:.2f} %",
            f"{enrichments}",
            f"{s['indicator_spearman']:.2f}",
            f"{s['indicator_worst_factor']:.1f}, {s['indicator_worst_factor_enriched']:.1f}",
            f"{s['hifi_time_s']:.2f}",
            f"{s['online_time_enriched_s']:.2f}",
            f"{s['hifi_time_s'] / s['online_time_enriched_s']:.2f}x",
            f"{sum(per.values()):.2f}" if enrichments else "-",
            f"{per['full_model']:.2f} / {per['cubature']:.2f}" if enrichments else "-",
        )
    console = Console(width=240)
    console.print(table)
    estimates, truths = (np.concatenate(arrays) for arrays in zip(*(s["estimates"] for s in best.values()), strict=True))
    console.print(f"plain ROM, every increment of every loading: Spearman(estimated, true error) = {spearmanr(estimates, truths)[0]:.2f}")


if __name__ == "__main__":
    main()
