"""The runner of the ``rom_hifi`` kind: the full-model solve of a blade case, its result file, VTU and plot."""

from __future__ import annotations

import time

import numpy as np

from adaptsim.cases import RunContext
from adaptsim.launch import COLLECTIVE_ERRORS, abort_on_error, peak_memory_mb
from adaptsim.progress import ProgressBar, log
from rom.hifi_case import HifiCase
from rom.hifi_output import plot_history, write_series
from rom.parallel.layout import block_layout, process_layout
from rom.problem import build_problem, check_temperature_range, local_problem
from rom.recorded_solve import recorded_solve


def run(case: HifiCase, ctx: RunContext) -> None:
    """Run the case: ``result.h5`` (summary, snapshots), VTU files, ``history.png``.

    Under ``mpiexec -n N`` each rank integrates and assembles on its own elements (:mod:`rom.parallel`); the
    snapshots are gathered, and rank 0 writes the checkpoints and the same files as a serial run (a run
    resumes from a checkpoint written with any number of ranks). On the generated blade each rank builds only its
    own layers of the mesh and its share of the problem (:meth:`rom.hifi_case.HifiCase.by_layers`); rank 0 builds
    the whole mesh after the solve, to write it.
    """

    started = time.perf_counter()
    if case.by_layers():
        layout = block_layout(case.validated_block())
        mesh, problem = None, local_problem(case, layout)
    else:
        mesh, space, problem = build_problem(case)
        layout = process_layout(mesh, space)
    with abort_on_error(layout.comm, COLLECTIVE_ERRORS):
        _run(case, ctx, mesh, problem, layout, started)


def _run(case: HifiCase, ctx: RunContext, mesh, problem, layout, started: float) -> None:

    times = case.loading.history.increment_times()
    low, high = check_temperature_range(problem, times, layout)
    n_cells = layout.n_points // layout.space.weights.shape[1]
    log(
        f"blade: {n_cells} tetrahedra ({layout.space.mesh.cells.shape[1]} nodes), {layout.n_dofs} dofs, {layout.n_points} integration points, "
        f"{times.size} increments, temperature {low:.0f}..{high:.0f} K, {layout.n_ranks} rank(s)"
        + (", each building its own layers of the mesh" if mesh is None else "")
    )
    with ProgressBar("high-fidelity increments", total=times.size) as bar:
        recorder, solver, _ = recorded_solve(case, problem, layout, times, ctx, "checkpoint", advance=bar.advance)
    memory = layout.gather(peak_memory_mb())
    if memory is None:  # not rank 0
        return
    wall = time.perf_counter() - started
    segment_ends = np.cumsum(case.loading.history.increments) - 1
    chosen = {"none": [], "last": [times.size - 1], "segments": list(segment_ends), "all": list(range(times.size))}[case.output.vtu]
    mesh = mesh if mesh is not None else case.mesh.build()
    write_series(ctx, mesh, recorder, chosen)
    ctx.save_figure(plot_history(recorder, case.loading.history), "history.png")
    summary = {
        "n_dofs": layout.n_dofs,
        "n_elements": mesh.n_cells,
        "n_nodes": mesh.n_nodes,
        "n_integration_points": layout.n_points,
        "n_increments": int(times.size),
        "newton_iterations": int(recorder.iterations.sum()),
        "increment_cuts": int(recorder.cuts.sum()),
        "max_cumulated_plasticity": float(recorder.cumulated_plasticity.max()),
        "max_von_mises": float(recorder.max_von_mises.max()),
        "max_displacement": float(np.abs(recorder.displacement).max()),
        "wall_time_s": wall,
        "constitutive_s": solver.timing.constitutive,
        "assembly_s": solver.timing.assembly,
        "linear_solve_s": solver.timing.linear_solve,
        "krylov_iterations": int(sum(getattr(solver.solve, "iterations", []))),  # PETSc's; 0 for a direct solver
        "n_ranks": layout.n_ranks,
        "peak_memory_mb": max(memory),  # the largest rank's; per rank in peak_memory_mb_per_rank
        "peak_memory_mb_per_rank": memory,
    }
    ctx.write_results(
        {**recorder.datasets(), "mesh": {"points": mesh.points, "cells": mesh.cells}, "summary": {}}, attrs={"summary": summary}
    )
    recorder.discard()
    log(
        f"done in {wall:.1f} s: {summary['newton_iterations']} Newton iterations, max p = {summary['max_cumulated_plasticity']:.3g}, "
        f"max von Mises = {summary['max_von_mises'] / 1e6:.4g} MPa"
        + (f", {summary['krylov_iterations']} Krylov iterations (PETSc)" if summary["krylov_iterations"] else "")
    )
