"""The offline calibration of the error estimate (``training.calibration``): the trained ROM run without enrichment
on loadings it was not trained on, each against its own full-model run, and the estimate's weights fitted to the
true errors of every increment (:func:`rom.indicator.calibrate`)."""

from __future__ import annotations

import numpy as np

from adaptsim.cases import RunContext
from adaptsim.progress import ProgressBar, log
from rom.hifi_case import HifiCase
from rom.history_errors import HistoryErrors
from rom.indicator import UNCALIBRATED, calibrate, combined, parts_table, worst_factor
from rom.online import AdaptiveROM, OfflineROM
from rom.problem import build_problem, loading_inputs
from rom.recorded_solve import recorded_solve


def calibration_weights(runs: list[HifiCase], offline: OfflineROM, mesh, space, layout, mass, ctx: RunContext) -> dict[str, float] | None:
    """The weights of the error estimate fitted on the calibration runs ``runs`` (the case of each loading,
    :meth:`~rom.online_case.TrainedRomCase.calibration_runs` changed in; None: none given, or none of their
    increments has a true error to fit). Every rank runs every calibration run on its own elements; each full-model
    run is checkpointed in ``calibration_<i>.npz`` (a killed run resumes it)."""
    if not runs:
        return None
    parts: list[dict[str, float]] = []
    truth: list[float] = []
    total = sum(run.loading.history.increment_times().size for run in runs)
    with ProgressBar("calibration runs (high-fidelity and ROM)", total=total) as bar:
        for index, run in enumerate(runs):
            _, _, problem = build_problem(run, mesh=mesh, space=space)
            times = run.loading.history.increment_times()
            _, _, reference = recorded_solve(
                run, problem, layout, times, ctx, f"calibration_{index}", advance=bar.advance, keep_increments=True, keep_checkpoint=True
            )
            hifi, unit_force, load, factory = loading_inputs(run, problem, mesh, space, layout)
            rom = AdaptiveROM(offline, hifi, mass, unit_force, load, factory, enrichment=False, layout=layout)
            errors = HistoryErrors(rom, reference, layout, mass)
            parts += [step.indicator_parts for step in rom.run(times, errors.compare)]
            truth += errors.true
    weights = calibrate(parts, np.array(truth))
    if weights is None:
        log(
            f"calibration: no increment of the {len(runs)} calibration run(s) has a true error above 0.1 %: the estimate stays uncalibrated"
        )
        return None
    table = parts_table(parts)
    before = worst_factor(combined(UNCALIBRATED, table), np.array(truth))
    after = worst_factor(combined(weights, table), np.array(truth))
    log(
        "calibration: weights "
        + ", ".join(f"{name} {value:.3g}" for name, value in weights.items())
        + f"; on its {len(truth)} increments the estimate is within {after:.2f}x of the true error (uncalibrated {before:.2f}x)"
    )
    return weights
