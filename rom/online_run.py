"""The runner of the ``rom_online`` kind: train the adaptive ROM (or load it), run it on a new temperature field
with and without enrichment, and compare both with the full model.

Outputs: ``rom.h5`` (the ROM), ``result.h5``, the plots ``indicator.png``, ``errors.png``,
``singular_values.png``, and ``reduced_points.vtu`` (elements holding reduced points, before and after enrichment).
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from adaptsim.cases import RunContext
from adaptsim.errors import case_field
from adaptsim.launch import COLLECTIVE_ERRORS, abort_on_error, share_cores
from adaptsim.progress import ProgressBar, log
from rom.calibration_runs import calibration_weights
from rom.history_errors import HistoryErrors
from rom.indicator import worst_factor
from rom.loading_changes import changed_case
from rom.online import AdaptiveROM, build_offline, gather, localise
from rom.online_case import RomCase, TrainedRomCase
from rom.online_output import plot_errors, plot_indicator, plot_singular_values, write_reduced_points
from rom.parallel.layout import process_layout, redistribute
from rom.problem import build_problem, check_loading_temperatures, check_temperature_range, loading_inputs
from rom.recorded_solve import recorded_solve
from rom.storage import load_rom, save_rom, saved_case_text
from rom.tolerances import Tolerances


def training_checkpoints(out_dir: Path) -> list[Path]:
    """The checkpoints :func:`train` leaves for a killed run to resume: its training and calibration runs'."""
    return [*out_dir.glob("training_*.npz"), *out_dir.glob("calibration_*.npz")]


def train(case: TrainedRomCase, mesh, space, layout, mass, ctx: RunContext, timings: dict[str, float]):
    """High-fidelity training runs (:meth:`~rom.online_case.TrainedRomCase.training_runs`) and the offline phase;
    this rank's rows of the ROM. Rank 0 writes ``rom.h5``.

    ``timings`` gets ``time_training_s`` (the training solves), ``time_reduction_s`` (POD, cubature, QDEIM) and
    ``time_calibration_s`` (the calibration runs, :mod:`rom.calibration_runs`).
    """

    runs = [(field, changes, changed_case(case, changes)) for field, changes in case.training_runs()]
    calibration = [
        (field, f"calibration run {index + 1} ({changes})", changed_case(case, changes))
        for index, (field, changes) in enumerate(case.calibration_runs())
    ]
    check_loading_temperatures(
        [*((field, f"training run {index + 1} ({changes})", run) for index, (field, changes, run) in enumerate(runs)), *calibration],
        mesh,
        space,
    )
    runs_here = [(index, run) for index, (_, _, run) in enumerate(runs)]
    by_fields = layout.comm is not None and case.training.parallel == "fields"
    if by_fields:  # whole runs, round robin over the ranks
        runs_here = runs_here[layout.comm.Get_rank() :: layout.n_ranks]
    increments = {}
    started = time.perf_counter()
    # ranks solving whole runs at once share the cores between their sparse solvers too; a failure there is
    # one rank's alone, so it aborts the job rather than leave the other ranks waiting
    with (
        ProgressBar("training runs (high-fidelity)", total=sum(run.loading.history.increment_times().size for _, run in runs_here)) as bar,
        share_cores(layout.comm, "mkl") if by_fields else nullcontext(),
        abort_on_error(layout.comm if by_fields else None),
    ):
        for index, run_case in runs_here:
            _, _, problem = build_problem(run_case, mesh=mesh, space=space)
            times = run_case.loading.history.increment_times()
            _, _, solved = recorded_solve(
                run_case,
                problem,
                layout,
                times,
                ctx,
                f"training_{index}",
                distributed=not by_fields,
                advance=bar.advance,
                keep_increments=True,
                keep_checkpoint=True,
            )
            increments.update({(index, i): increment for i, increment in enumerate(solved)})
    timings["time_training_s"] = time.perf_counter() - started
    started = time.perf_counter()
    # whole runs on one rank each are redistributed by rows; the distributed solver's increments are this rank's rows
    training = redistribute(increments, layout) if by_fields else [increments[key] for key in sorted(increments)]
    tolerances = Tolerances.from_mapping(case.tolerances.model_dump())
    offline = build_offline(layout, mass, training, tolerances)
    timings["time_reduction_s"] = time.perf_counter() - started
    started = time.perf_counter()
    offline.calibration = calibration_weights([run for _, _, run in calibration], offline, mesh, space, layout, mass, ctx)
    timings["time_calibration_s"] = time.perf_counter() - started
    whole = gather(offline, layout)
    if whole is not None:  # rank 0
        save_rom(ctx.out_dir / "rom.h5", whole, mesh, ctx.loaded.resolved_text)
        ctx.artifacts.append(ctx.out_dir / "rom.h5")
    log(f"offline: {len(training)} snapshots, {offline.modes.shape[1]} modes, {offline.cubature.size} of {space.n_points} points")
    return offline


def run(case: RomCase, ctx: RunContext) -> None:
    """Offline (or load), high-fidelity reference, online plain and enriched; result, ROM file, plots, VTU.

    Under ``mpiexec -n N`` the elements are split over the ranks (:class:`rom.parallel.layout.Layout`): every phase
    runs distributed, rank 0 writes the files, and a failing rank ends the job with its message.
    """

    mesh, space, problem = build_problem(case)
    layout = process_layout(mesh, space)
    with abort_on_error(layout.comm, COLLECTIVE_ERRORS):
        _run(case, ctx, mesh, space, problem, layout)


def _run(case: RomCase, ctx: RunContext, mesh, space, problem, layout) -> None:

    times = case.loading.history.increment_times()
    check_temperature_range(problem, times)
    mass = layout.mass_matrix()
    log(f"blade: {space.n_dofs} dofs, {space.n_points} integration points, {times.size} increments, {layout.n_ranks} rank(s)")

    timings: dict[str, float] = {}
    started = time.perf_counter()
    earlier = ctx.out_dir / "rom.h5"  # written by an earlier (perhaps killed) run of this very case
    if case.training.rom_file:
        with case_field("training", "rom_file"):
            offline = localise(load_rom(case.training.rom_file, mesh), layout)
        if offline.tolerances != Tolerances.from_mapping(case.tolerances.model_dump()):
            log(f"{case.training.rom_file} was built with tolerances {vars(offline.tolerances)}: enrichment extends it with those")
    elif earlier.is_file() and saved_case_text(earlier) == ctx.loaded.resolved_text:
        log(f"reusing {earlier}, built by an earlier run of this case")
        with case_field("rom.h5"):
            offline = localise(load_rom(earlier, mesh), layout)
    else:
        offline = train(case, mesh, space, layout, mass, ctx, timings)
    timings["time_offline_s"] = time.perf_counter() - started
    with ProgressBar("reference (high-fidelity)", total=times.size) as bar:
        recorder, _, reference = recorded_solve(
            case, problem, layout, times, ctx, "reference", advance=bar.advance, keep_increments=True, keep_checkpoint=True
        )
    timings["hifi_time_s"] = recorder.elapsed
    variants = {"both": (False, True), "plain": (False,), "enriched": (True,)}[case.variants]
    runs: dict[str, dict[str, Any]] = {}
    for enrichment in variants:
        hifi, unit_force, load, factory = loading_inputs(case, problem, mesh, space, layout)
        rom = AdaptiveROM(offline, hifi, mass, unit_force, load, factory, enrichment, layout, case.tolerances.indicator)
        errors = HistoryErrors(rom, reference, layout, mass)
        initial_points = offline.cubature.points
        started = time.perf_counter()
        steps = rom.run(times, errors.compare)
        online_time = time.perf_counter() - started - errors.checking  # the comparison with the reference is not online work
        label = "enriched" if enrichment else "plain"
        runs[label] = {
            "time": online_time,
            "rom": rom,
            "steps": steps,
            "initial_points": initial_points,
            "displacement_error": np.array(errors.u),
            "p_error": np.array(errors.p),
            "indicator": np.array(errors.indicators),
            **{f"indicator_{name}": np.array([s.indicator_parts[name] for s in steps]) for name in steps[0].indicator_parts},
            "true_error": np.array(errors.true),
            "coordinates": np.array([np.pad(s.coordinates, (0, rom.offline.modes.shape[1] - s.coordinates.size)) for s in steps]),
        }
        log(
            f"{label}: max displacement error {errors.largest('u'):.2e}, max p error {errors.largest('p'):.2e}, {rom.n_enrichments} enrichments"
        )
    if layout.is_root:
        timings["time_online_s"] = float(sum(run_data["time"] for run_data in runs.values()))
        _write(ctx, mesh, space, layout, times, offline, runs, timings)
        for checkpoint in [ctx.out_dir / "reference.npz", *training_checkpoints(ctx.out_dir)]:
            checkpoint.unlink(missing_ok=True)  # the result is written: nothing left to resume


def _write(ctx, mesh, space, layout, times, offline, runs, timings: dict[str, float]) -> None:
    """Result file, plots and VTU of the reduced points (rank 0)."""

    main = runs.get("plain") or runs["enriched"]
    correlation = spearmanr(main["indicator"], main["true_error"])[0] if np.ptp(main["indicator"]) > 0 else float("nan")
    summary = {
        "n_dofs": space.n_dofs,
        "n_integration_points": space.n_points,
        "n_increments": int(times.size),
        "n_modes": int(offline.modes.shape[1]),
        "n_reduced_points": int(offline.cubature.size),
        "indicator_spearman": float(correlation),
        "indicator_worst_factor": worst_factor(main["indicator"], main["true_error"]),
        "indicator_calibrated": offline.calibration is not None,
        **{f"indicator_weight_{name}": weight for name, weight in main["rom"].estimator.weights.items()},
        "n_ranks": layout.n_ranks,
        **timings,
    }
    data = {"time": times, "singular_values": offline.singular_values, "summary": {}}
    for label, run_data in runs.items():
        summary[f"error_displacement_{label}"] = float(run_data["displacement_error"].max())
        summary[f"error_p_{label}"] = float(run_data["p_error"].max())
        summary[f"online_time_{label}_s"] = run_data["time"]
        data[label] = {
            key: run_data[key]
            for key in (
                "displacement_error",
                "p_error",
                "true_error",
                "indicator",
                "indicator_stress",
                "indicator_p",
                "indicator_history",
                "coordinates",
            )
        }
        data[label]["enriched_steps"] = np.array([s.enriched for s in run_data["steps"]])
    if "enriched" in runs:
        enriched = runs["enriched"]["rom"]
        timing = enriched.timing
        summary.update(
            indicator_worst_factor_enriched=worst_factor(runs["enriched"]["indicator"], runs["enriched"]["true_error"]),
            n_enrichments=enriched.n_enrichments,
            n_modes_final=int(enriched.offline.modes.shape[1]),
            n_reduced_points_final=enriched.n_points,
            **{f"enrichment_{part}_s": getattr(timing, part) for part in ("full_model", "bases", "cubature", "rebuild")},
            enrichment_newton_iterations=timing.newton_iterations,
        )
        if enriched.n_enrichments:  # one enrichment's time in full-model increments of the reference solve
            per_enrichment = sum(getattr(timing, part) for part in ("full_model", "bases", "cubature", "rebuild")) / enriched.n_enrichments
            summary["enrichment_cost_in_increments"] = per_enrichment / (timings["hifi_time_s"] / times.size)
        summary["speedup_enriched"] = timings["hifi_time_s"] / runs["enriched"]["time"]
    if "plain" in runs:
        summary["speedup_online"] = timings["hifi_time_s"] / runs["plain"]["time"]
    data["indicator"], data["true_error"] = main["indicator"], main["true_error"]
    ctx.save_figure(plot_indicator(times, runs), "indicator.png")
    ctx.save_figure(plot_errors(times, runs), "errors.png")
    ctx.save_figure(plot_singular_values(offline.singular_values, offline.modes.shape[1]), "singular_values.png")
    write_reduced_points(ctx, mesh, space, runs)
    ctx.write_results(data, attrs={"summary": summary})
