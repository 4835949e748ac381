"""The runner of the ``rom_campaign`` kind: train the adaptive ROM once (or load it), then run it with enrichment on
every loading of the campaign, carrying the enriched bases and cubature from one loading to the next.

After each loading ``rom.h5`` is rewritten atomically with the enriched ROM and the records of the loadings run so
far: a killed campaign resumes after its last finished loading (a verification solve in progress resumes from its
checkpoint); ``rom.h5`` of another case is refused. Outputs: ``rom.h5``, ``result.h5`` (per loading: enrichments,
estimated error, ROM time, and where verified the full model's time and the ROM's errors), ``campaign.png``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from adaptsim.cases import RunContext
from adaptsim.errors import CaseError, case_field
from adaptsim.launch import COLLECTIVE_ERRORS, abort_on_error
from adaptsim.progress import log
from adaptsim.results import load_results
from rom.campaign_case import CampaignCase
from rom.history_errors import HistoryErrors
from rom.loading_changes import changed_case
from rom.online import AdaptiveROM, OfflineROM, gather, localise
from rom.online_output import plot_campaign
from rom.online_run import train, training_checkpoints
from rom.parallel.layout import process_layout
from rom.problem import build_problem, check_loading_temperatures, loading_inputs
from rom.recorded_solve import recorded_solve
from rom.storage import ROM_KIND, load_rom, save_rom, saved_case_text

#: Per-loading records (one value per loading run), as stored in ``rom.h5`` and ``result.h5``.
RECORDS = (
    "enrichments",
    "estimated_error",
    "rom_time_s",
    "verified",
    "full_model_time_s",
    "error_displacement",
    "error_p",
    "n_modes",
    "n_reduced_points",
)


def _resume(case: CampaignCase, ctx: RunContext, mesh) -> tuple[OfflineROM | None, dict[str, list[float]]]:
    """The ROM and the records of an earlier run of this very case in the output folder (None, empty: none)."""
    path = ctx.out_dir / "rom.h5"
    records: dict[str, list[float]] = {name: [] for name in RECORDS}
    if not path.is_file():
        return None, records
    text = saved_case_text(path)
    if text != ctx.loaded.resolved_text:
        raise CaseError(f"{path} holds the ROM of another case (or is unreadable): use another --out, or delete it to start over")
    saved = load_results(path, ROM_KIND, "ROM file")
    for name in RECORDS:
        records[name] = [float(v) for v in np.atleast_1d(saved.data.get("campaign", {}).get(name, []))]
    if records["enrichments"]:
        log(f"resuming the campaign after loading {len(records['enrichments'])}")
    with case_field("rom.h5"):
        return load_rom(path, mesh), records


def run(case: CampaignCase, ctx: RunContext) -> None:
    """Offline (or load, or resume), then every loading: the full model where verified, the enriched ROM; results.

    Under ``mpiexec -n N`` the elements are split over the ranks as in ``rom_online``: every phase runs distributed,
    rank 0 writes the files, and a failing rank ends the job with its message.
    """
    mesh, space, _ = build_problem(case)
    layout = process_layout(mesh, space)
    with abort_on_error(layout.comm, COLLECTIVE_ERRORS):
        _run(case, ctx, mesh, space, layout)


def _run(case: CampaignCase, ctx: RunContext, mesh, space, layout) -> None:
    mass = layout.mass_matrix()
    loadings = case.campaign_loadings()
    loading_cases = [changed_case(case, changes) for changes in loadings]
    given = len(case.campaign.loadings)
    check_loading_temperatures(
        [
            (
                ("campaign", "loadings", index) if index < given else ("campaign", "family"),
                f"loading {index + 1} of the campaign ({changes})",
                loading_case,
            )
            for index, (changes, loading_case) in enumerate(zip(loadings, loading_cases, strict=True))
        ],
        mesh,
        space,
    )
    whole, records = _resume(case, ctx, mesh)
    timings: dict[str, float] = {}
    if whole is None and case.training.rom_file:
        with case_field("training", "rom_file"):
            whole = load_rom(case.training.rom_file, mesh)
    offline = localise(whole, layout) if whole is not None else train(case, mesh, space, layout, mass, ctx, timings)
    if layout.is_root:
        for checkpoint in training_checkpoints(ctx.out_dir):
            checkpoint.unlink()  # the ROM is in rom.h5
    every = case.campaign.verify_every
    rom: AdaptiveROM | None = None
    for index in range(len(records["enrichments"]), len(loadings)):
        loading_case = loading_cases[index]
        _, _, problem = build_problem(loading_case, mesh=mesh, space=space)
        times = loading_case.loading.history.increment_times()  # its temperatures checked before the campaign
        verified = bool(every) and index % every == 0
        reference: list[Any] = []
        full_time = float("nan")
        if verified:
            recorder, _, reference = recorded_solve(loading_case, problem, layout, times, ctx, f"verify_{index}", keep_increments=True)
            full_time = recorder.elapsed
        layout.synchronize()
        started = time.perf_counter()  # (the ROM's time: its construction, the run, its enrichments)
        loading = loading_inputs(loading_case, problem, mesh, space, layout)
        # the first loading (or the first after a resume) builds the ROM, the next ones carry it over
        rom = (
            AdaptiveROM(offline, loading[0], mass, *loading[1:], layout=layout, tolerance=case.tolerances.indicator)
            if rom is None
            else rom.with_loading(*loading)
        )
        errors = HistoryErrors(rom, reference, layout, mass)
        steps = rom.run(times, errors.compare if verified else None)
        rom_time = time.perf_counter() - started - errors.checking
        offline = rom.offline  # enriched: carried over to the next loading
        record = {
            "enrichments": rom.n_enrichments,
            "estimated_error": max(step.indicator for step in steps),
            "rom_time_s": rom_time,
            "verified": float(verified),
            "full_model_time_s": full_time,
            "error_displacement": errors.largest("u"),
            "error_p": errors.largest("p"),
            "n_modes": offline.modes.shape[1],
            "n_reduced_points": offline.cubature.size,
        }
        for name in RECORDS:
            records[name].append(float(record[name]))
        saved = gather(offline, layout)  # (collective; the whole ROM on rank 0)
        if saved is not None:
            save_rom(ctx.out_dir / "rom.h5", saved, mesh, ctx.loaded.resolved_text, campaign={k: np.array(v) for k, v in records.items()})
            for checkpoint in ctx.out_dir.glob(f"verify_{index}.*npz"):
                checkpoint.unlink()  # recorded in rom.h5
        checked = (
            f", error u {record['error_displacement']:.2e}, p {record['error_p']:.2e}, full model {full_time:.2f} s" if verified else ""
        )
        log(
            f"loading {index + 1}/{len(loadings)}: {rom.n_enrichments} enrichments, estimated error {record['estimated_error']:.2e}, "
            f"ROM {rom_time:.2f} s{checked}"
        )
    if layout.is_root:
        _write(case, ctx, {name: np.array(values) for name, values in records.items()}, {**timings, "n_ranks": layout.n_ranks})


def _write(case: CampaignCase, ctx: RunContext, records: dict[str, np.ndarray], facts: dict[str, float]) -> None:
    """``result.h5`` with the records and the campaign's summary (with ``facts``: the offline timings, the ranks),
    and ``campaign.png``."""
    verified = records["verified"] > 0
    summary: dict[str, Any] = {
        "n_loadings": int(records["enrichments"].size),
        "n_verified": int(verified.sum()),
        "n_enrichments": int(records["enrichments"].sum()),
        "rom_time_s": float(records["rom_time_s"].sum()),
        "n_modes_final": int(records["n_modes"][-1]),
        "n_reduced_points_final": int(records["n_reduced_points"][-1]),
        "tolerance": case.tolerances.indicator,
        **facts,
    }
    if verified.any():
        full, rom = records["full_model_time_s"][verified], records["rom_time_s"][verified]
        summary.update(
            max_error_displacement=float(np.max(records["error_displacement"][verified])),
            max_error_p=float(np.max(records["error_p"][verified])),
            full_model_time_verified_s=float(full.sum()),
            campaign_speedup_verified=float(full.sum() / rom.sum()),
            # every loading's full-model time taken as the verified ones' mean (all loadings, enrichments included)
            campaign_speedup=float(full.mean() * verified.size / records["rom_time_s"].sum()),
        )
    ctx.save_figure(plot_campaign(records, case.tolerances.indicator), "campaign.png")
    ctx.write_results({"loading": {name: values for name, values in records.items()}}, attrs={"summary": summary})
    log(
        f"campaign: {summary['n_loadings']} loadings, {summary['n_enrichments']} enrichments, ROM {summary['rom_time_s']:.2f} s"
        + (f", speed-up {summary['campaign_speedup']:.1f}x" if "campaign_speedup" in summary else "")
    )
