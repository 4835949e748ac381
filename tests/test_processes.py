"""The tests' child processes end with every descendant when their time is up."""

import subprocess
import time
from pathlib import Path

import pytest

from tests import processes


def _group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (a killed one may stay a zombie until its parent reaps it)."""
    for _ in range(50):
        states = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:  # exited meanwhile
                continue
            if int(fields[2]) == pgid:
                states.append(fields[0])
        if all(state in "ZX" for state in states):
            return False
        time.sleep(0.1)
    return True


def test_a_hung_child_is_killed_with_its_children():
    started = time.monotonic()
    with processes.spawned(["sh", "-c", "sleep 100 & sleep 100"]) as process, pytest.raises(subprocess.TimeoutExpired):
        processes.finish(process, timeout=1)
    assert time.monotonic() - started < 30
    assert not _group_alive(process.pid)  # the background sleep (a grandchild holding the pipes) is gone too


def test_leaving_the_block_kills_what_is_still_running():
    with processes.spawned(["sh", "-c", "sleep 100 & echo started; sleep 100"]) as process:
        assert process.stdout.readline().strip() == "started"
    assert process.returncode is not None and not _group_alive(process.pid)


def test_run_returns_the_output_and_raises_on_failure_when_asked():
    assert processes.run(["sh", "-c", "echo out; echo err >&2"], timeout=30).stdout == "out\n"
    with pytest.raises(subprocess.CalledProcessError):
        processes.run(["sh", "-c", "exit 3"], timeout=30, check=True)
