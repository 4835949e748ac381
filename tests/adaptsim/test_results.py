"""HDF5 result files: round trip, metadata, atomic writes."""

import os
import signal
import sys
import textwrap

import h5py
import numpy as np
import pytest

import adaptsim
from adaptsim.results import ResultFileError, atomic_path, load_results, write_results
from tests import processes


def test_round_trip(tmp_path):
    data = {
        "t": np.linspace(0, 1, 11),
        "positions": np.random.default_rng(0).standard_normal((11, 3, 3)),
        "n_steps": 42,
        "label": "figure-eight",
        "names": np.array(["a", "bb"]),
        "summary": {"indicator": np.arange(5.0), "nested": {"flag": np.array([True, False])}},
    }
    path = write_results(
        tmp_path / "r.h5",
        data,
        attrs={"summary": {"n_modes": 12, "error": 1.5e-3, "method": "ecm"}, "/": {"t_end": 6.3}},
        case_text="kind: demo\nseed: 7\n",
        seed=7,
        kind="demo",
    )
    results = load_results(path)
    np.testing.assert_array_equal(results.data["t"], data["t"])
    np.testing.assert_array_equal(results["positions"], data["positions"])
    assert results["n_steps"] == 42
    assert results["label"] == "figure-eight"
    assert list(results["names"]) == ["a", "bb"]
    np.testing.assert_array_equal(results["summary/indicator"], np.arange(5.0))
    np.testing.assert_array_equal(results["summary/nested/flag"], [True, False])
    assert results.attrs["summary"] == {"n_modes": 12, "error": 1.5e-3, "method": "ecm"}
    assert results.attrs["/"]["t_end"] == 6.3
    assert results.case_text == "kind: demo\nseed: 7\n"
    assert results.case == {"kind": "demo", "seed": 7}
    assert results.seed == 7 and results.kind == "demo"
    assert results.version == adaptsim.__version__
    assert [p.name for p in tmp_path.iterdir()] == ["r.h5"]


def test_failed_write_leaves_no_file_and_keeps_previous(tmp_path):
    target = tmp_path / "r.h5"
    with pytest.raises(TypeError):
        write_results(target, {"ok": np.ones(3), "bad": object()})
    assert list(tmp_path.iterdir()) == []
    write_results(target, {"x": np.ones(3)})
    with pytest.raises(TypeError):
        write_results(target, {"x": np.zeros(3), "bad": object()})
    np.testing.assert_array_equal(load_results(target)["x"], np.ones(3))  # previous complete version intact
    assert [p.name for p in tmp_path.iterdir()] == ["r.h5"]


def test_killed_writer_leaves_no_result_file(tmp_path):
    """SIGKILL in the middle of a write: the result path never exists half-written."""
    target = tmp_path / "r.h5"
    script = textwrap.dedent(
        f"""
        import time, numpy as np, h5py
        from adaptsim.results import write_results
        original = h5py.Group.create_dataset
        def slow(self, *args, **kwargs):
            out = original(self, *args, **kwargs)
            self.file.flush()
            print("written", flush=True)
            time.sleep(0.5)
            return out
        h5py.Group.create_dataset = slow
        write_results({str(target)!r}, {{f"d{{i}}": np.ones(100000) for i in range(50)}})
        """
    )
    with processes.spawned([sys.executable, "-c", script]) as process:
        for _ in range(3):
            assert process.stdout.readline().strip() == "written"  # (the test's timeout ends a silent child)
        partial = [p for p in tmp_path.iterdir()]
        assert partial and all(p.name.endswith(".partial") for p in partial)  # data is being written, elsewhere
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    assert not target.exists()


def test_atomic_path_replaces_only_on_success(tmp_path):
    target = tmp_path / "plot.png"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("new, partial")
        raise RuntimeError("crash")
    assert target.read_text() == "old"
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["plot.png"]


def test_reserved_and_invalid_names(tmp_path):
    with pytest.raises(ValueError, match="reserved"):
        write_results(tmp_path / "r.h5", {"case": 1})
    with pytest.raises(ValueError, match="invalid"):
        write_results(tmp_path / "r.h5", {"a/b": 1})
    assert list(tmp_path.iterdir()) == []


def _foreign(path):
    with h5py.File(path, "w") as handle:
        handle["x"] = np.arange(3)


def _external_link(path):
    write_results(path, {"x": np.arange(3)}, kind="nbody")
    other = path.with_name("secret.h5")
    with h5py.File(other, "w") as handle:
        handle["data"] = np.arange(5)
    with h5py.File(path, "a") as handle:
        handle["stolen"] = h5py.ExternalLink(str(other), "/data")


def _dangling_link(path):
    write_results(path, {"x": np.arange(3)}, kind="nbody")
    with h5py.File(path, "a") as handle:
        handle["gone"] = h5py.SoftLink("/nowhere")


def _newer(path):
    write_results(path, {"x": np.arange(3)}, kind="nbody")
    with h5py.File(path, "a") as handle:
        handle.attrs["format_version"] = 99


def _truncated(path):
    write_results(path, {"x": np.arange(10000)}, kind="nbody")
    path.write_bytes(path.read_bytes()[:2000])


@pytest.mark.parametrize(
    "make, kind, text",
    [
        (_foreign, None, "an HDF5 file not written by adaptsim"),
        (_external_link, None, "'stolen' is a link to .*secret.h5:/data"),
        (_dangling_link, None, "'gone' is a link to /nowhere"),
        (_newer, None, "format 99; this adaptsim reads up to 1"),
        (_truncated, None, "is not a readable result file"),
        (lambda p: p.write_bytes(b"plain text, not HDF5" * 20), None, "is not a readable result file"),
        (lambda p: write_results(p, {"x": np.arange(3)}, kind="nbody"), "rom_file", "is a nbody file, not a result file"),
        (lambda p: p.mkdir(), None, "is a folder"),
        (lambda p: None, None, "does not exist"),
    ],
)
def test_foreign_truncated_or_linking_files_raise_one_error_type(tmp_path, make, kind, text):
    path = tmp_path / "result.h5"
    make(path)
    with pytest.raises(ResultFileError, match=text) as caught:
        load_results(path, kind)
    assert "\n" not in str(caught.value)
