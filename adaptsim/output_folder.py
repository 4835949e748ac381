"""The output folder of a run: probed before anything is computed, one run at a time, left clean when a run fails.

A read-only folder, a full disk or a path through a file is found before the computation starts (a one-line
:class:`~adaptsim.errors.CaseError` naming ``--out``), and a run that fails leaves no empty folder it created and
no temporary file of an interrupted atomic write (see :func:`adaptsim.results.atomic_path`). A run holds a lock on
its folder (``flock`` on :data:`LOCK_NAME`, removed at the end) from before it touches anything there: a second run
into the same folder stops with one line and leaves the first run's files alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

from adaptsim.errors import CaseError, first_line
from adaptsim.launch import launched_rank, launched_ranks
from adaptsim.results import remove_partial_files

PROBE_BYTES = 1 << 20  # a write of this size must succeed: a full disk fails it, not only a zero-byte create
#: The lock file a run holds in its output folder.
LOCK_NAME = ".adaptsim.lock"


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
def locked(out_dir: Path) -> Iterator[None]:
    """Hold the lock of ``out_dir`` (which exists) for the block; another holder makes it a :class:`CaseError`.

    The lock file names its holder and is removed when the block ends; a lock taken on a file that another run
    removed meanwhile is taken again on the new one.
    """
    path = out_dir / LOCK_NAME
    while True:
        try:
            handle = open(path, "a+")  # noqa: SIM115 (held open for the whole block)
        except OSError as error:
            raise CaseError(f"cannot write into {str(out_dir)!r}: {error.strerror or error}", source="--out") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            raise CaseError(
                f"another adaptsim run{f' ({holder})' if holder else ''} is writing into {str(out_dir)!r}: "
                "wait for it to end, or give another --out",
                source="--out",
            ) from None
        with contextlib.suppress(OSError):
            if os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino:
                break
        handle.close()  # the file was removed by the run that held it: lock the new one
    try:
        handle.truncate(0)
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        handle.close()


@contextlib.contextmanager
def output_folder(out_dir: Path) -> Iterator[Path]:
    """Probe and lock ``out_dir`` and yield it; after a failure remove the temporary files, and the folder if this run
    made it and nothing was written into it. Under ``mpiexec`` rank 0 (the one that writes) does this alone (another
    rank cleaning up could delete rank 0's files while it writes them) and tells the other ranks whether to go on."""
    if launched_rank() != 0:
        problem = _shared_verdict(None)
        if problem is not None:
            raise CaseError(problem, source="--out")
        out_dir.mkdir(parents=True, exist_ok=True)
        yield out_dir
        return
    with contextlib.ExitStack() as stack:
        try:
            created = probe(out_dir)
            stack.enter_context(locked(out_dir))
        except CaseError as error:
            _shared_verdict(error.message)
            raise
        _shared_verdict(None)
        remove_partial_files(out_dir)
        try:
            yield out_dir
        except BaseException:
            remove_partial_files(out_dir)
            stack.close()  # (the lock file goes)
            if created and not any(out_dir.iterdir()):
                out_dir.rmdir()
            raise


def _shared_verdict(problem: str | None) -> str | None:
    """Under ``mpiexec``, rank 0's ``problem`` with the output folder (None: none), received by every rank."""
    if launched_ranks() == 1:
        return problem
    from mpi4py import MPI

    verdict: str | None = MPI.COMM_WORLD.bcast(problem, root=0)
    return verdict
