"""The operating system says no: a full disk or a read-only output folder is one line, and nothing is left half-written."""

import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from adaptsim.errors import CaseError
from adaptsim.output_folder import LOCK_NAME, locked, probe
from tests import processes

ROOT = Path(__file__).resolve().parents[2]
ADAPTSIM = shutil.which("adaptsim") or str(Path(sys.executable).parent / "adaptsim")
QUICKSTART = ROOT / "cases" / "quickstart.yaml"


def _limit_file_size(limit: int):
    """A child process in which no file can grow past ``limit`` bytes (writes fail with EFBIG, as on a full disk)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _run(out: Path, limit: int | None = None, *overrides: str) -> subprocess.CompletedProcess:
    command = [ADAPTSIM, "run", str(QUICKSTART), "--out", str(out), *[a for o in overrides for a in ("--set", o)]]
    return processes.run(command, timeout=300, preexec_fn=_limit_file_size(limit) if limit else None, cwd=out.parent)


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("adaptsim: ") or "Traceback" in line or "Error" in line]


def test_a_full_disk_is_found_before_computing(tmp_path):
    out = tmp_path / "out"
    completed = _run(out, 64 * 1024)  # the 1 MiB probe cannot be written
    assert completed.returncode == 2, completed.stderr
    errors = _errors(completed.stderr)
    assert len(errors) == 1 and errors[0].startswith("adaptsim: error: --out: cannot write into"), completed.stderr
    assert "File too large" in errors[0]
    assert not out.exists()


def test_a_disk_filling_up_during_the_run_is_one_line_and_leaves_no_partial_file(tmp_path):
    out = tmp_path / "out"
    completed = _run(out, 1536 * 1024, "snapshots=100000", "t_end=200")  # the probe fits, the snapshots do not
    assert completed.returncode == 1, completed.stderr
    errors = _errors(completed.stderr)
    assert len(errors) == 1 and errors[0].startswith("adaptsim: run failed: "), completed.stderr
    assert "File too large" in errors[0]
    assert not list(out.rglob("*.partial")) and not (out / "result.h5").exists()


def test_a_read_only_output_folder_is_found_before_computing(tmp_path):
    out = tmp_path / "readonly"
    out.mkdir()
    if os.geteuid() == 0:  # root writes into a 0o555 folder: make the file system read-only instead
        mounted = processes.run(["mount", "-t", "tmpfs", "-o", "size=4m,ro", "tmpfs", str(out)], timeout=30)
        if mounted.returncode != 0:
            pytest.skip("root cannot mount a read-only tmpfs here")
    else:
        out.chmod(0o555)
    try:
        completed = _run(out)
        assert completed.returncode == 2, completed.stderr
        errors = _errors(completed.stderr)
        assert len(errors) == 1 and "--out: cannot write into" in errors[0], completed.stderr
        assert "Read-only file system" in errors[0] or "Permission denied" in errors[0]
    finally:
        if os.geteuid() == 0:
            processes.run(["umount", str(out)], timeout=30)
        else:
            out.chmod(0o755)


def test_results_respect_the_umask(tmp_path):
    out = tmp_path / "out"
    previous = os.umask(0o022)
    try:
        assert _run(out, None, "t_end=1.0", "snapshots=10").returncode == 0
    finally:
        os.umask(previous)
    for path in (out / "result.h5", out / "orbits.png"):
        assert path.stat().st_mode & 0o777 == 0o644, path


def test_probe_leaves_no_folder_behind_when_it_fails(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(CaseError, match="cannot write into"):
        probe(blocker / "out")
    assert blocker.read_text() == "not a folder"


def test_a_second_run_into_a_folder_in_use_stops_and_leaves_it_alone(tmp_path):
    out = tmp_path / "out"
    assert _run(out, None, "t_end=1.0", "snapshots=10").returncode == 0
    assert not (out / LOCK_NAME).exists()  # a finished run leaves no lock behind
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    with locked(out):  # a first run, still writing
        (out / ".result.h5.abc.partial").write_bytes(b"being written")
        completed = _run(out, None, "t_end=2.0", "snapshots=10")
        assert completed.returncode == 2, completed.stderr
        errors = _errors(completed.stderr)
        assert len(errors) == 1 and f"--out: another adaptsim run (pid {os.getpid()} on " in errors[0], completed.stderr
        assert "is writing into" in errors[0] and "Traceback" not in completed.stderr
        assert (out / ".result.h5.abc.partial").read_bytes() == b"being written"  # not cleaned away under the first run
    (out / ".result.h5.abc.partial").unlink()
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before


def test_the_lock_of_a_killed_run_is_free(tmp_path):
    """The operating system releases the lock of a process that dies, so a killed run does not block the folder."""
    out = tmp_path / "out"
    out.mkdir()
    holder = "from adaptsim.output_folder import locked; import pathlib, time\nwith locked(pathlib.Path({!r})):\n    print('locked', flush=True); time.sleep(100)"
    with processes.spawned([sys.executable, "-c", holder.format(str(out))]) as process:
        assert process.stdout.readline().strip() == "locked"
        with pytest.raises(CaseError, match="another adaptsim run"), locked(out):
            pass
        process.kill()
        process.wait(timeout=60)
    with locked(out):
        assert (out / LOCK_NAME).read_text().startswith(f"pid {os.getpid()} ")
    assert not (out / LOCK_NAME).exists()
