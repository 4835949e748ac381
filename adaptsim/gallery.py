"""Regenerate the README's gallery: run bundled cases and keep the plots they write.

    python -m adaptsim.gallery              # docs/gallery/*.png, a few minutes
    python -m adaptsim.gallery --quick --out /tmp/gallery   # every case shortened (what the test suite runs)

Every picture in the README's gallery is produced here from a bundled case (nothing is drawn by hand): the
entries below name the case, the settings and the plot kept from its output folder; the README's gallery
section is generated from them (:mod:`adaptsim.docs`).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GALLERY = ROOT / "docs" / "gallery"


@dataclass(frozen=True)
class Entry:
    """One gallery picture: ``plot`` from the output of ``case`` run with ``overrides``, saved as ``name``."""

    name: str
    case: str
    plot: str
    caption: str
    overrides: tuple[str, ...] = ()


ENTRIES = (
    Entry("figure_eight_orbits.png", "quickstart", "orbits.png", "Figure-eight orbit, three periods (Hermite)."),
    Entry(
        "figure_eight_energy.png",
        "figure_eight",
        "energy_error.png",
        "Energy error of Hermite, leapfrog, Dormand-Prince and IAS15 on the figure-eight.",
    ),
    Entry(
        "pythagorean_orbits.png", "pythagorean", "orbits.png", "Burrau's Pythagorean problem to t = 100: one body escapes, a binary forms."
    ),
    Entry(
        "agent_front.png",
        "rl_eval",
        "front.png",
        "The shipped agent against every fixed time-step parameter (accuracy/cost front).",
        ("n_seeds=20", "steps=150", "examples=2"),
    ),
    Entry(
        "agent_trajectories.png",
        "rl_eval",
        "trajectories.png",
        "The agent's choice of the parameter along orbits.",
        ("n_seeds=20", "steps=150", "examples=2"),
    ),
    Entry(
        "blade_history.png",
        "blade_hifi",
        "history.png",
        "Rotating, heated blade: load factor and largest cumulated plastic strain over the creep history.",
    ),
    Entry("rom_indicator.png", "blade_rom", "indicator.png", "ROM error indicator against the true error, without and with enrichment."),
    Entry(
        "rom_errors.png",
        "blade_rom",
        "errors.png",
        "ROM displacement and plasticity errors on a hotter blade, without and with enrichment.",
    ),
    Entry("rom_singular_values.png", "blade_rom", "singular_values.png", "POD singular values of the training displacements."),
    Entry("orthogonality.png", "orthogonality", "orthogonality.png", "Loss of orthogonality of QR methods against the condition number."),
)


def build(out: Path, quick: bool = False, cases: Collection[str] | None = None) -> list[Path]:
    """Run each entry's case (once per distinct setting; only ``cases`` when given) and copy its plot to ``out``;
    returns the pictures."""
    from adaptsim.cases import load_case, run_case

    out.mkdir(parents=True, exist_ok=True)
    folders: dict[tuple[str, tuple[str, ...]], Path] = {}
    written = []
    with tempfile.TemporaryDirectory() as scratch:
        for entry in ENTRIES:
            if cases is not None and entry.case not in cases:
                continue
            path = ROOT / "cases" / f"{entry.case}.yaml"
            overrides = load_case(path).spec.smoke_overrides if quick else entry.overrides
            key = (entry.case, tuple(overrides))
            if key not in folders:
                folders[key] = Path(scratch) / f"{entry.case}{len(folders)}"
                run_case(load_case(path, overrides), folders[key])
            target = out / entry.name
            shutil.copyfile(folders[key] / entry.plot, target)
            written.append(target)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=GALLERY)
    parser.add_argument("--quick", action="store_true", help="run every case with its kind's smoke overrides")
    args = parser.parse_args()
    for path in build(args.out, args.quick):
        print(path)


if __name__ == "__main__":
    main()
