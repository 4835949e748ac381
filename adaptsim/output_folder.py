"""The output folder of a run: probed before anything is computed, left clean when a run fails.

A read-only folder, a full disk or a path through a file is found before the computation starts (a one-line
:class:`~adaptsim.errors.CaseError` naming ``--out``), and a run that fails leaves no empty folder it created and
no temporary file of an interrupted atomic write (see :func:`adaptsim.results.atomic_path`).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from adaptsim.errors import CaseError, first_line
from adaptsim.launch import launched_rank
from adaptsim.results import remove_partial_files

PROBE_BYTES = 1 << 20  # a write of this size must succeed: a full disk fails it, not only a zero-byte create


def os_error_text(error: OSError) -> str:
    """One line for an operating-system error: what failed on which file."""
    reason = error.strerror or first_line(error, limit=None)
    return f"{error.filename}: {reason}" if error.filename else reason


def probe(out_dir: Path) -> bool:
    """Create ``out_dir`` if needed and check that a file can be written and synced in it; True if it was created."""
    created = not out_dir.exists()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".adaptsim-probe.", suffix=".partial") as handle:
            handle.write(b"\0" * PROBE_BYTES)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        if created:
            with contextlib.suppress(OSError):
                out_dir.rmdir()
        raise CaseError(f"cannot write into {str(out_dir)!r}: {error.strerror or error}", source="--out") from None
    return created


@contextlib.contextmanager
def output_folder(out_dir: Path) -> Iterator[Path]:
    """Probe ``out_dir`` and yield it; after a failure remove the temporary files, and the folder if this run made it
    and nothing was written into it. Under ``mpiexec`` rank 0 (the one that writes) does this alone: another rank
    cleaning up could delete rank 0's files while it writes them."""
    if launched_rank() != 0:
        out_dir.mkdir(parents=True, exist_ok=True)
        yield out_dir
        return
    created = probe(out_dir)
    remove_partial_files(out_dir)
    try:
        yield out_dir
    except BaseException:
        remove_partial_files(out_dir)
        if created and not any(out_dir.iterdir()):
            out_dir.rmdir()
        raise
