"""Launch a test script under ``mpiexec`` (the mpich wheel's, beside this Python)."""

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tests import processes

MPIEXEC = Path(sys.executable).with_name("mpiexec")


def run_under_mpiexec(script: Path | list[str], ranks: int, timeout: float = 300, **options) -> subprocess.CompletedProcess:
    """Run ``python script`` (or a command line) on ``ranks`` processes; the timeout turns a hang into a test failure
    (``mpiexec`` and every rank are killed)."""
    command = [sys.executable, str(script)] if isinstance(script, Path) else script
    return processes.run([str(MPIEXEC), "-n", str(ranks), *command], timeout, **options)


def mpi_report(script: Path, ranks: int, timeout: float = 300, arguments: Sequence[str] = ()) -> dict:
    """Run ``script`` (with ``arguments``) under mpiexec, require success, and return the JSON its rank 0 printed."""
    completed = run_under_mpiexec([sys.executable, str(script), *arguments], ranks, timeout)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)
