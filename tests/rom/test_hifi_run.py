"""The rom_hifi case kind: result contract, checkpoint/resume, and one-line errors for bad input."""

import os
import re
import sys
from pathlib import Path

import meshio
import numpy as np
import pytest

from adaptsim.cases import load_case, run_case
from adaptsim.results import load_results
from rom import hifi_output as output
from tests import processes

from ..mpi import run_under_mpiexec

ADAPTSIM = str(Path(sys.executable).with_name("adaptsim"))
SMALL = ["mesh.divisions=[3,1,3]", "loading.history.increments=[2,2,1]", "output.checkpoint_every=2"]
CASE = Path(__file__).resolve().parents[2] / "cases" / "blade_hifi.yaml"
SMALL_ARGS = [a for o in SMALL for a in ("--set", o)]


def test_result_contract_and_outputs(tmp_path):
    ctx = run_case(load_case(CASE, SMALL), tmp_path)
    results = load_results(ctx.result_path)
    summary = results.attrs["summary"]
    for key in ("n_dofs", "n_elements", "n_increments", "newton_iterations", "max_cumulated_plasticity", "max_von_mises", "wall_time_s"):
        assert key in summary
    assert 100.0 < summary["peak_memory_mb"] < 4000.0 and list(summary["peak_memory_mb_per_rank"]) == [summary["peak_memory_mb"]]
    assert summary["n_increments"] == 5
    assert results["displacement"].shape == (5, summary["n_dofs"])
    assert results["cumulated_plasticity"].shape == (5, summary["n_integration_points"])
    assert results["stress"].shape == (5, summary["n_integration_points"], 6)
    assert summary["max_cumulated_plasticity"] > 0  # the hot, spinning blade creeps
    assert 1e7 < summary["max_von_mises"] < 5e9
    assert {p.name for p in ctx.artifacts} >= {
        "blade_0001.vtu",
        "blade_0003.vtu",
        "blade_0004.vtu",
        "blade.pvd",
        "history.png",
        "result.h5",
    }
    vtu = meshio.read(tmp_path / "blade_0004.vtu")
    assert vtu.point_data["displacement"].shape == (summary["n_nodes"], 3)
    assert np.allclose(vtu.point_data["displacement"].ravel(), results["displacement"][4])
    assert not (tmp_path / "checkpoint.npz").exists()


def killed_run(tmp_path, monkeypatch, folder):
    """A run killed after its fourth increment (checkpoint written after the second and fourth)."""
    original = output.SnapshotRecorder.record

    def killed_after_four(self, index, increment):
        original(self, index, increment)
        if index == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(output.SnapshotRecorder, "record", killed_after_four)
    with pytest.raises(KeyboardInterrupt):
        run_case(load_case(CASE, SMALL), tmp_path / folder)
    assert (tmp_path / folder / "checkpoint.npz").exists()
    assert not (tmp_path / folder / "result.h5").exists()
    monkeypatch.setattr(output.SnapshotRecorder, "record", original)


def test_a_killed_run_resumes_from_its_checkpoint_with_the_same_result(tmp_path, monkeypatch):
    reference = load_results(run_case(load_case(CASE, SMALL), tmp_path / "reference").result_path)
    killed_run(tmp_path, monkeypatch, "resumed")
    resumed = load_results(run_case(load_case(CASE, SMALL), tmp_path / "resumed").result_path)
    assert np.array_equal(resumed["displacement"], reference["displacement"])
    assert np.array_equal(resumed["cumulated_plasticity"], reference["cumulated_plasticity"])
    assert resumed.attrs["summary"]["newton_iterations"] == reference.attrs["summary"]["newton_iterations"]


def test_a_corrupt_checkpoint_falls_back_to_the_previous_one(tmp_path, monkeypatch, capsys):
    reference = load_results(run_case(load_case(CASE, SMALL), tmp_path / "reference").result_path)
    killed_run(tmp_path, monkeypatch, "resumed")
    checkpoint = tmp_path / "resumed" / "checkpoint.npz"
    assert (tmp_path / "resumed" / "checkpoint.previous.npz").exists()
    checkpoint.write_bytes(checkpoint.read_bytes()[:1000])  # truncated: a disk error, not an atomic write's fault
    capsys.readouterr()
    resumed = load_results(run_case(load_case(CASE, SMALL), tmp_path / "resumed").result_path)
    assert "checkpoint checkpoint.npz cannot be read (BadZipFile); trying the previous one" in capsys.readouterr().err
    assert np.array_equal(resumed["displacement"], reference["displacement"])
    assert not checkpoint.exists() and not (tmp_path / "resumed" / "checkpoint.previous.npz").exists()


def inverted_mesh(path):
    points = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1.0]])
    meshio.write(path, meshio.Mesh(points, [("tetra", np.array([[0, 2, 1, 3]]))]))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["mesh.source=file", "mesh.file=missing.msh"], "mesh.file: .*mesh file 'missing.msh' does not exist"),
        (["material.young=-2e11"], "material: .*young must be > 0, got -2e\\+11"),
        (["material.poisson=0.5"], "poisson must be >= 0 and < 0.5, got 0.5"),
        (
            ["loading.temperature.parameters.T_tip=1500"],
            "material.young: temperature 1[0-9.]+ K is outside the table's range \\[293.15, 1273.15\\] K",
        ),
        (["loading.temperature.expression=T_root + foo"], "unknown name 'foo'"),
        (["loading.temperature.expression=__import__('os')"], "Call is not allowed|unknown name '__import__'"),
        (["loading.history.increments=[2,0,1]"], "increments needs one count >= 1 per segment"),
        (["solver.max_iterations=1", "solver.max_cuts=0"], "the high-fidelity solve failed at t = .* after 0 increment cuts"),
        (["mesh.source=file", "mesh.file=inverted.vtu"], "mesh.file: element 0 is inverted"),
    ],
)
def test_bad_input_gives_one_line_and_no_result(tmp_path, overrides, message):
    inverted_mesh(tmp_path / "inverted.vtu")
    args = [a for o in [*SMALL, *overrides] for a in ("--set", o)]
    completed = processes.run([ADAPTSIM, "run", str(CASE), *args, "--out", str(tmp_path / "out")], timeout=300, cwd=tmp_path)
    assert completed.returncode != 0
    errors = [line for line in completed.stderr.splitlines() if line.startswith(("adaptsim: error:", "adaptsim: run failed:"))]
    assert len(errors) == 1 and "Traceback" not in completed.stderr, completed.stderr
    assert re.search(message, errors[0]), errors[0]
    assert not (tmp_path / "out" / "result.h5").exists()


@pytest.mark.parametrize("file_format", ["gmsh22", "vtu"])
def test_meshes_from_files_and_nodal_temperatures_from_a_file(tmp_path, file_format):
    from rom.geometry import box

    mesh = box((0.02, 0.02, 0.1), (1, 1, 3), 2)
    name = "bar.msh" if file_format == "gmsh22" else "bar.vtu"
    meshio.write(tmp_path / name, meshio.Mesh(mesh.points, [("tetra10", mesh.cells)]), file_format=file_format)
    temperature = 293.15 + 400.0 * mesh.points[:, 2] / 0.1
    np.save(tmp_path / "temperature.npy", temperature)
    overrides = [
        "mesh.source=file",
        f"mesh.file={tmp_path / name}",
        "material.model=elastic",
        "material.expansion=1e-5",
        f"loading.temperature.file={tmp_path / 'temperature.npy'}",
        "loading.rotation.speed=0",
        "output.vtu=none",
        "loading.history.increments=[1,1,1]",
    ]
    ctx = run_case(load_case(CASE, overrides), tmp_path / "out")
    results = load_results(ctx.result_path)
    assert results.attrs["summary"]["n_nodes"] == mesh.n_nodes
    # a bar clamped at its cold end and free elsewhere expands freely along z: u_z(top) = int alpha (T - T_ref) dz
    top = np.flatnonzero(np.isclose(mesh.points[:, 2], 0.1))
    u = results["displacement"][1].reshape(-1, 3)  # end of the ramp (load 1)
    expected = 1e-5 * 400.0 * 0.1 / 2.0
    assert np.allclose(u[top, 2], expected, rtol=0.05)


def mpi_hifi(tmp_path, ranks, folder):
    completed = run_under_mpiexec([ADAPTSIM, "run", str(CASE), *SMALL_ARGS, "--out", str(tmp_path / folder)], ranks, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    return load_results(tmp_path / folder / "result.h5")


def assert_same_snapshots(distributed, serial):
    assert set(distributed.data) == set(serial.data)  # the serial file's layout
    for name in ("displacement", "cumulated_plasticity", "stress", "backstress", "temperature", "plastic_strain"):
        assert distributed[name].shape == serial[name].shape, name
        scale = max(np.abs(serial[name]).max(), 1e-300)
        assert np.abs(distributed[name] - serial[name]).max() < 1e-10 * scale, name


@pytest.mark.mpi
def test_under_mpiexec_the_result_file_is_the_serial_one(tmp_path):
    serial = load_results(run_case(load_case(CASE, SMALL), tmp_path / "serial").result_path)
    distributed = mpi_hifi(tmp_path, 2, "mpi")
    assert_same_snapshots(distributed, serial)
    assert distributed.attrs["summary"]["n_ranks"] == 2 and serial.attrs["summary"]["n_ranks"] == 1
    assert distributed.attrs["summary"]["newton_iterations"] == serial.attrs["summary"]["newton_iterations"]
    assert {p.name for p in (tmp_path / "mpi").iterdir()} == {p.name for p in (tmp_path / "serial").iterdir()}


@pytest.mark.mpi
def test_nodal_temperatures_from_a_file_reach_each_ranks_own_layers(tmp_path):
    """A temperature file (one value per node of the whole blade, not a function of position the expression could
    give) under ``mpiexec -n 3``, each rank building its own layers: the serial run's snapshots, temperatures included."""
    mesh = load_case(CASE, SMALL).case.mesh.build()
    x, y, z = ((mesh.points - mesh.points.min(axis=0)) / np.ptp(mesh.points, axis=0)).T
    noise = np.random.default_rng(0).uniform(-15.0, 15.0, mesh.n_nodes)
    np.save(tmp_path / "temperature.npy", 900.0 + 200.0 * z + 60.0 * x * y + noise)
    file = [f"loading.temperature.file={tmp_path / 'temperature.npy'}"]
    serial = load_results(run_case(load_case(CASE, [*SMALL, *file]), tmp_path / "serial").result_path)
    args = ["--set", file[0], "--out", str(tmp_path / "mpi")]
    completed = run_under_mpiexec([ADAPTSIM, "run", str(CASE), *SMALL_ARGS, *args], 3, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert "3 rank(s), each building its own layers of the mesh" in completed.stderr
    distributed = load_results(tmp_path / "mpi" / "result.h5")
    assert_same_snapshots(distributed, serial)
    assert np.ptp(serial["temperature"][-2]) > 200.0  # the file's field, not the case's expression


@pytest.mark.mpi
def test_a_serial_checkpoint_resumes_under_mpiexec(tmp_path, monkeypatch):
    serial = load_results(run_case(load_case(CASE, SMALL), tmp_path / "serial").result_path)
    killed_run(tmp_path, monkeypatch, "resumed")
    resumed = mpi_hifi(tmp_path, 3, "resumed")
    assert_same_snapshots(resumed, serial)
    assert not (tmp_path / "resumed" / "checkpoint.npz").exists()


@pytest.mark.mpi
def test_a_failed_solve_under_mpiexec_is_one_line(tmp_path):
    """Newton's failure is taken on summed residuals, so every rank raises it at once: rank 0 reports it once."""
    args = ["--set", "solver.max_iterations=1", "--set", "solver.max_cuts=0", "--out", str(tmp_path / "out")]
    completed = run_under_mpiexec([ADAPTSIM, "run", str(CASE), *SMALL_ARGS, *args], 2, timeout=120, cwd=tmp_path)
    lines = [line for line in completed.stderr.splitlines() if line.startswith("adaptsim:")]
    assert completed.returncode == 1 and len(lines) == 1 and "run failed: the high-fidelity solve failed" in lines[0], completed.stderr
    assert "Traceback" not in completed.stderr and not (tmp_path / "out" / "result.h5").exists()


@pytest.mark.slow
def test_two_runs_of_the_same_case_give_the_same_bits(tmp_path, monkeypatch):
    from rom.fem.linear import pardiso_available

    if pardiso_available():  # MKL reads it when it loads: the run's subprocesses load it fresh
        assert os.environ["MKL_CBWR"] == "COMPATIBLE"
    args = ["mesh.divisions=[8,2,10]", "loading.history.increments=[2,3,2]", "output.vtu=none"]
    runs = []
    for name in ("first", "second"):
        command = [
            sys.executable,
            "-m",
            "adaptsim.cli",
            "run",
            str(CASE),
            "--out",
            str(tmp_path / name),
            *[a for o in args for a in ("--set", o)],
        ]
        env = {key: value for key, value in os.environ.items() if key != "MKL_CBWR"}
        processes.run(command, timeout=300, check=True, env=env)
        runs.append(load_results(tmp_path / name / "result.h5"))
    assert np.array_equal(runs[0]["displacement"], runs[1]["displacement"])
    assert np.array_equal(runs[0]["stress"], runs[1]["stress"])


def test_memory_estimate_of_a_petsc_solve_is_shared_by_the_ranks_on_this_machine(monkeypatch):
    """The PETSc solve's memory is spread over the ranks (this machine holds its ranks' share); a direct solve's
    factor sits on rank 0 whole, and is estimated far larger (the 1M-dof blade: 80 GiB, refused here)."""
    case = load_case(CASE, ["solver.linear_solver=petsc"]).case
    direct = load_case(CASE).case
    nodes, cells = 350_267, 247_104  # mesh.divisions [48, 11, 78]: 1.05 M dofs
    alone = case.estimated_bytes(nodes, cells)
    assert 12 * 2**30 < alone < 20 * 2**30 and direct.estimated_bytes(nodes, cells) > 4 * alone
    monkeypatch.setenv("PMI_SIZE", "4")
    monkeypatch.setenv("MPI_LOCALNRANKS", "2")  # four ranks, two of them here
    shared = case.estimated_bytes(nodes, cells)  # the recorded snapshots (rank 0's) are not shared
    assert 0.5 * alone < shared < 0.65 * alone


def test_under_mpiexec_each_rank_builds_only_its_layers_of_the_blade(monkeypatch):
    """A rank of a ``rom_hifi`` run on the generated blade validates and keeps its own layers (a third of them of
    three ranks), never the whole mesh; with more ranks than layers or another kind, every rank builds the whole mesh
    (and takes its share by METIS)."""
    from rom.hifi_case import MeshSpec

    def whole_mesh(self):
        raise AssertionError("the whole mesh was built")

    monkeypatch.setenv("PMI_SIZE", "3")
    monkeypatch.setenv("PMI_RANK", "1")
    with monkeypatch.context() as patched:
        patched.setattr(MeshSpec, "build", whole_mesh)
        case = load_case(CASE, ["mesh.divisions=[4,1,9]"]).case
        assert case.by_layers()
        block = case.validated_block()
    assert np.array_equal(np.unique(block.elements // 6 % 9), [3, 4, 5])  # layers 3..5 of 9
    assert block.n_elements == 6 * 4 * 9 and block.mesh.n_cells == block.n_elements // 3
    assert not load_case(CASE, ["mesh.divisions=[4,1,2]"]).case.by_layers()  # 3 ranks, 2 layers
    monkeypatch.setenv("PMI_SIZE", "1")
    assert not load_case(CASE).case.by_layers()


@pytest.mark.mpi
def test_layers_built_by_the_ranks_solved_by_petsc_equal_the_serial_direct_solve(tmp_path):
    pytest.importorskip("petsc4py", reason="the petsc extra is not installed (bash tools/install_petsc.sh)")
    serial = load_results(run_case(load_case(CASE, SMALL), tmp_path / "serial").result_path)
    args = ["--set", "solver.linear_solver=petsc", "--out", str(tmp_path / "petsc")]
    completed = run_under_mpiexec([ADAPTSIM, "run", str(CASE), *SMALL_ARGS, *args], 3, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert "3 rank(s), each building its own layers of the mesh" in completed.stderr
    distributed = load_results(tmp_path / "petsc" / "result.h5")
    scale = np.abs(serial["displacement"]).max()
    assert np.abs(distributed["displacement"] - serial["displacement"]).max() < 1e-7 * scale
    assert distributed.attrs["summary"]["newton_iterations"] == serial.attrs["summary"]["newton_iterations"]
    assert np.array_equal(distributed["mesh/cells"], serial["mesh/cells"])
