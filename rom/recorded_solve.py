"""One full-model solve over a load history, recorded increment by increment and checkpointed.

Used by ``rom_hifi`` (the run itself) and by ``rom_online`` (the training and reference solves): a
checkpoint of the same resolved case resumes where it stopped, a complete one is read back.
"""

from __future__ import annotations

import hashlib
import time

import numpy as np

from adaptsim.cases import RunContext
from adaptsim.progress import log
from rom.hifi_case import HifiCase
from rom.hifi_output import SnapshotRecorder
from rom.parallel.layout import Layout, gathered_increment, increment_rows


def case_hash(ctx: RunContext) -> str:
    """Fingerprint of the resolved case (a checkpoint resumes only the same case)."""
    return hashlib.sha256(ctx.loaded.resolved_text.encode()).hexdigest()[:16]


def recorded_solve(
    case: HifiCase,
    problem,
    layout,
    times: np.ndarray,
    ctx: RunContext,
    name: str,
    *,
    distributed: bool = True,
    advance=lambda count: None,
    keep_increments: bool = False,
    keep_checkpoint: bool = False,
):
    """Solve ``problem`` over ``times`` with the case's solver, recording every increment and checkpointing in ``name.npz``.

    A checkpoint of the same case resumes where it stopped; a complete one is read back without solving.
    ``distributed``: solved by every rank of ``layout`` (each holding its rows of every field; the
    fields are gathered and rank 0 writes the checkpoints, which hold whole fields, so any number of ranks can
    resume them); otherwise by this process alone on the whole mesh. ``advance(count)`` reports progress.

    Returns
    -------
    recorder, solver, increments
        The :class:`rom.hifi_output.SnapshotRecorder` (whole fields on the writing rank; ``elapsed`` is the solve's
        wall time over every session), the solver, and with ``keep_increments`` every increment as this
        process's solver holds it (else an empty list). With ``keep_checkpoint`` a finished solve stays in its
        checkpoint, to be read back by a later run.
    """

    split = distributed and layout.comm is not None
    recorder = SnapshotRecorder(
        ctx.out_dir / f"{name}.npz",
        f"{case_hash(ctx)}-{name}",
        times,
        layout if split else problem.space,  # the whole mesh's sizes
        case.output.checkpoint_every,
        writer=layout.is_root or not distributed,
    )

    def held(whole):  # a whole-mesh increment as this process's solver holds it
        return increment_rows(whole, layout.dofs, layout.points) if split else whole

    last = recorder.resume(None)
    if 0 < recorder.next_index < times.size:
        log(f"resuming {name}.npz after increment {recorder.next_index} of {times.size}")
    increments = [held(recorder.increment(index)) for index in range(recorder.next_index)] if keep_increments else []
    advance(recorder.next_index)
    solver = case.solver.build(problem, layout if distributed else Layout.serial(problem.space))
    if recorder.complete:
        return recorder, solver, increments
    clock = [time.perf_counter()]

    def after(index: int, increment) -> None:
        now = time.perf_counter()
        recorder.elapsed += now - clock[0]
        clock[0] = now
        recorder.record(recorder.next_index, gathered_increment(increment, layout) if split else increment)
        if keep_increments:
            increments.append(increment)
        advance(1)

    solver.run(times[recorder.next_index :], after, start=solver.initial() if last is None else held(last))
    if keep_checkpoint and recorder.writer:
        recorder.save()
        recorder.previous.unlink(missing_ok=True)  # a complete solve keeps one file, read back by a later run
    return recorder, solver, increments
