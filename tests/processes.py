"""Child processes of the tests: each in a process group of its own, killed with every descendant (an
``mpiexec``'s ranks, a training run's workers) when its time is up or the test ends, so no test can hang."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the process group of ``process`` (it leads its group: see :func:`spawned`)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the whole group has exited already
        os.killpg(process.pid, signal.SIGKILL)


@contextmanager
def spawned(command: Sequence[str], **options: Any) -> Iterator[subprocess.Popen]:
    """``subprocess.Popen`` in a new session (stdout and stderr piped, text); on leaving, whatever is still running
    of its group is killed and the pipes are closed."""
    options.setdefault("stdout", subprocess.PIPE)
    options.setdefault("stderr", subprocess.PIPE)
    options.setdefault("text", True)
    process = subprocess.Popen(list(command), start_new_session=True, **options)
    try:
        yield process
    finally:
        kill_group(process)
        for pipe in (process.stdin, process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
        process.wait(timeout=60)


def finish(process: subprocess.Popen, timeout: float) -> tuple[str, str]:
    """Wait for ``process`` at most ``timeout`` seconds and return its output; past it, kill its group and raise
    :class:`subprocess.TimeoutExpired`."""
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process)
        raise


def run(command: Sequence[str], timeout: float, check: bool = False, **options: Any) -> subprocess.CompletedProcess:
    """``subprocess.run(command, capture_output=True, text=True, timeout=timeout)``, but the whole process group is
    killed when the time is up (``subprocess.run`` kills only the child, and its children keep the pipes open)."""
    with spawned(command, **options) as process:
        stdout, stderr = finish(process, timeout)
    completed = subprocess.CompletedProcess(list(command), process.returncode, stdout, stderr)
    if check:
        completed.check_returncode()
    return completed
