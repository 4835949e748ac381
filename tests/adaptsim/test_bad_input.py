"""Bad input of every kind: ``validate`` and ``run`` both answer exit 2 and one line on stderr naming the case file
and the field, with no traceback, and nothing is written."""

import zipfile
from pathlib import Path

import h5py
import meshio
import numpy as np
import pytest

from adaptsim.cli import main
from adaptsim.results import write_results
from tests.rl_agents.crafted import SHIPPED, crafted_agent

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "cases"
BLADE_NODES = 1785  # the default blade mesh (divisions [8, 2, 10], 10-node tetrahedra)

_TET = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """Broken and foreign input files, made once."""
    folder = tmp_path_factory.mktemp("bad_files")
    (folder / "empty.msh").write_bytes(b"")
    (folder / "random.msh").write_bytes(np.random.default_rng(0).bytes(4000))
    (folder / "folder.msh").mkdir()
    meshio.write(folder / "good.vtu", meshio.Mesh(_TET, [("tetra", np.array([[0, 1, 2, 3]]))]))
    (folder / "truncated.vtu").write_bytes((folder / "good.vtu").read_bytes()[:300])
    meshio.write(folder / "inverted.vtu", meshio.Mesh(_TET, [("tetra", np.array([[0, 2, 1, 3]]))]))
    nan_points = _TET.copy()
    nan_points[1, 0] = np.nan
    meshio.write(folder / "nan.vtu", meshio.Mesh(nan_points, [("tetra", np.array([[0, 1, 2, 3]]))]))
    cube = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]], dtype=float)
    meshio.write(folder / "hexahedra.vtu", meshio.Mesh(cube, [("hexahedron", np.arange(8)[None])]))
    (folder / "three_values.csv").write_text("1.0, 2.0, 3.0\n")
    np.save(folder / "nan_values.npy", np.full(BLADE_NODES, np.nan))
    np.save(folder / "object_values.npy", np.array([{"a": 1}] * 3, dtype=object), allow_pickle=True)
    (folder / "words.csv").write_text("hot, cold\n")
    (folder / "random.h5").write_bytes(np.random.default_rng(1).bytes(5000))
    write_results(folder / "nbody_result.h5", {"t": np.zeros(3)}, kind="nbody")
    with h5py.File(folder / "empty_rom.h5", "w") as handle:
        handle.attrs["kind"] = "rom_file"
    (folder / "truncated.zip").write_bytes(SHIPPED.read_bytes()[:5000])
    (folder / "random.zip").write_bytes(np.random.default_rng(2).bytes(3000))
    (folder / "folder.zip").mkdir()
    crafted_agent(folder, "evil")
    with zipfile.ZipFile(folder / "not_an_agent.zip", "w") as archive:
        archive.writestr("readme.txt", "hello")
    return folder


F = "{files}"
QUICK, ORTHO, TRAIN, EVAL, HIFI, ROM = "quickstart", "orthogonality", "rl_train_quick", "rl_eval", "blade_hifi", "blade_rom"
CAMPAIGN = "rom_campaign"
MESH_FILE = ("mesh.source=file",)

ROWS = [
    # nbody
    (QUICK, ["t_end=1e308"], "t_end"),
    (QUICK, ["t_end=-1"], "t_end"),
    (QUICK, ["t_end=.nan"], "t_end"),
    (QUICK, ["snapshots=1000000000"], "snapshots"),
    (QUICK, ["snapshots=1"], "snapshots"),
    (QUICK, ["seed=1180591620717411303424"], "seed"),
    (QUICK, ["seed=-1"], "seed"),
    (QUICK, ["integrator.name=euler"], "integrator.name"),
    (QUICK, ["integrator.eta=0"], "integrator.eta"),
    (QUICK, ["integrator.eta=abc"], "integrator.eta"),
    (QUICK, ["integrator.eta=1e308"], "integrator.eta: input should be less than or equal to 1"),
    (QUICK, ["integrator.eta=null", "integrator.dt=1e8"], "integrator.dt: input should be less than or equal to 10000000"),
    (QUICK, ["compare=[{name: ias15, tol: 2.0}]"], "compare[0].tol"),
    (QUICK, ["initial_conditions.problem=nope"], "initial_conditions.problem"),
    (QUICK, ["initial_conditions.softening=-1"], "initial_conditions.softening"),
    (QUICK, ["initial_conditions.virial_ratio=3"], "initial_conditions.virial_ratio"),
    (QUICK, ["events.close_encounter=-1"], "events.close_encounter"),
    (QUICK, ["events.radii=[0.1, 0.1]"], "events.radii"),
    (QUICK, ["events.radii=[0.1, -0.1, 0.1]"], "events.radii"),
    (QUICK, ["events.radii=[0.1, .nan, 0.1]"], "events.radii"),
    (QUICK, ["events.on_collision=bounce"], "events.on_collision"),
    (QUICK, ["foo=1"], "foo"),
    (QUICK, ["compare=[{name: euler}]"], "compare[0].name"),
    # orthogonality
    (ORTHO, ["rows=1000000000"], "rows"),
    (ORTHO, ["columns=0"], "columns"),
    (ORTHO, ["condition_numbers=[1.0e+308]"], "condition_numbers"),
    (ORTHO, ["condition_numbers=[0.5]"], "condition_numbers"),
    (ORTHO, ["condition_numbers=[]"], "condition_numbers"),
    (ORTHO, ["methods=[qr]"], "methods[0]"),
    (ORTHO, ["rows=100", "columns=500"], "columns (500) must not exceed rows"),
    (ORTHO, ["rows=100000", "columns=5000"], "need about"),
    # rl_train
    (TRAIN, ["hyperparameters.learning_rate=abc"], "hyperparameters.learning_rate"),
    (TRAIN, ["hyperparameters.gamma=-3"], "hyperparameters.gamma"),
    (TRAIN, ["hyperparameters.buffer_size=1000000000"], "hyperparameters.buffer_size"),
    (TRAIN, ["hyperparameters.batch_size=0"], "hyperparameters.batch_size"),
    (TRAIN, ["hyperparameters.learning_rat=0.1"], "takes no 'learning_rat'"),
    (TRAIN, ["hyperparameters.exploration_fraction=2"], "hyperparameters.exploration_fraction"),
    (TRAIN, ["hyperparameters.train_freq=[1, step]"], "hyperparameters.train_freq"),
    (TRAIN, ["hyperparameters.tau=5"], "hyperparameters.tau"),
    (TRAIN, ["hyperparameters.target_update_interval={a: 1}"], "hyperparameters.target_update_interval"),
    (TRAIN, ["policy.net_arch=[1000000000]"], "policy.net_arch"),
    (TRAIN, ["policy.net_arch=[0]"], "policy.net_arch"),
    (TRAIN, ["policy.optimizer=lion"], "policy.optimizer"),
    (TRAIN, ["policy.orthogonality_weight=-1"], "policy.orthogonality_weight"),
    (TRAIN, ["total_timesteps=0"], "total_timesteps"),
    (TRAIN, ["total_timesteps=1000000000000"], "total_timesteps"),
    (TRAIN, ["n_envs=100000"], "n_envs"),
    (TRAIN, ["algorithm=DQNN"], "algorithm"),
    (TRAIN, ["algorithm=SAC"], "SAC needs env.action: continuous"),
    (TRAIN, ["env.parameters=[]"], "env.parameters"),
    (TRAIN, ["env.parameters=[-1.0, 1.0]"], "env.parameters[0]"),
    (TRAIN, ["env.integrator=euler"], "env.integrator"),
    (TRAIN, ["env.observation=pixels"], "env.observation"),
    (TRAIN, ["env.interval=1e308"], "env.interval"),
    (TRAIN, ["env.episode_steps=1000000000"], "env.episode_steps"),
    (TRAIN, ["evaluation.steps=1000000000"], "evaluation.steps"),
    (TRAIN, ["evaluation.n_seeds=0"], "evaluation.n_seeds"),
    (TRAIN, ["checkpoint_every=0"], "checkpoint_every"),
    (TRAIN, ["seed=1180591620717411303424"], "seed"),
    # rl_eval
    (EVAL, ["model=nowhere/agent.zip"], "model: file 'nowhere/agent.zip' does not exist"),
    (EVAL, [f"model={F}/folder.zip"], "model: "),
    (EVAL, [f"model={F}/truncated.zip"], "model: "),
    (EVAL, [f"model={F}/random.zip"], "model: "),
    (EVAL, [f"model={F}/crafted_evil.zip"], "model: "),
    (EVAL, [f"model={F}/not_an_agent.zip"], "model: "),
    (EVAL, ["steps=1000000000"], "steps"),
    (EVAL, ["n_seeds=0"], "n_seeds"),
    (EVAL, ["examples=1000"], "examples"),
    (EVAL, ["env.observation=paper"], "model: the agent in"),
    (EVAL, ["transfer.parameters=[1.0]"], "transfer.parameters needs 10 values"),
    (EVAL, ["transfer.integrator=euler"], "transfer.integrator"),
    # rom_hifi: sizes and values
    (HIFI, ["mesh.divisions=[1000,1000,1000]"], "mesh.divisions"),
    (HIFI, ["mesh.divisions=[400,400,400]"], "need about"),
    (HIFI, ["mesh.divisions=[0,1,1]"], "mesh.divisions"),
    (HIFI, ["solver.petsc_options={ksp_rtol: 1e-9}"], "solver: petsc_options apply to linear_solver: petsc only"),
    (HIFI, ["solver.linear_solver=petsc", "solver.petsc_options={-ksp_rtol: 1e-9}"], "'-ksp_rtol' is not a PETSc option name"),
    (HIFI, ["loading.history.increments=[1000000,1,1]"], "loading.history"),
    (HIFI, ["loading.history.times=[0.0, 2.0, 1.0, 3.0]"], "loading.history"),
    (
        HIFI,
        ["loading.history.times=[0, 1e300, 1e308]", "loading.history.load=[0, 1, 1]", "loading.history.increments=[2, 2]"],
        "loading.history.times[1]: input should be less than or equal to 10000000000",
    ),
    (HIFI, ["loading.rotation.speed=1e200"], "loading.rotation.speed: input should be less than or equal to 100000"),
    (HIFI, ["material.poisson=0.6"], "material"),
    (HIFI, ["material.young=-1"], "material"),
    (HIFI, ["solver.max_iterations=0"], "solver.max_iterations"),
    (HIFI, ["solver.tolerance=0"], "solver.tolerance"),
    (HIFI, ["loading.rotation.axis=[0, 0, 0]"], "loading.rotation"),
    # rom_hifi: mesh files
    (HIFI, [*MESH_FILE], "mesh"),
    (HIFI, [*MESH_FILE, "mesh.file=nowhere.msh"], "mesh.file"),
    (HIFI, [*MESH_FILE, f"mesh.file={F}/empty.msh"], "mesh.file"),
    (HIFI, [*MESH_FILE, f"mesh.file={F}/random.msh"], "mesh.file"),
    (HIFI, [*MESH_FILE, f"mesh.file={F}/folder.msh"], "mesh.file"),
    (HIFI, [*MESH_FILE, f"mesh.file={F}/truncated.vtu"], "mesh.file"),
    (HIFI, [*MESH_FILE, f"mesh.file={F}/inverted.vtu"], "mesh.file"),
    (HIFI, [*MESH_FILE, f"mesh.file={F}/nan.vtu"], "mesh.file"),
    (HIFI, [*MESH_FILE, f"mesh.file={F}/hexahedra.vtu"], "mesh.file"),
    # rom_hifi: the temperature expression and file
    (HIFI, ["loading.temperature.expression='10**10**10'"], "loading.temperature.expression"),
    (HIFI, ["loading.temperature.expression='9**9**9'"], "loading.temperature.expression"),
    (HIFI, ["loading.temperature.expression='1e300**2'"], "loading.temperature.expression"),
    (HIFI, ["loading.temperature.expression='10**400'"], "loading.temperature.expression"),
    (HIFI, ["loading.temperature.expression='maximum(x, y, z)'"], "loading.temperature.expression"),
    (HIFI, ["loading.temperature.expression='sin(x, x)'"], "loading.temperature.expression"),
    (HIFI, ["loading.temperature.expression='minimum(x)'"], "loading.temperature.expression"),
    (HIFI, ["loading.temperature.expression='sin + 1'"], "loading.temperature.expression"),
    (HIFI, ["loading.temperature.expression=__import__('os')"], "loading.temperature.expression"),
    (HIFI, ["loading.temperature.expression='x.__class__'"], "loading.temperature.expression"),
    (HIFI, ["loading.temperature.expression='T_root + nope'"], "loading.temperature.expression"),
    (HIFI, ["loading.temperature.expression='(x'"], "loading.temperature.expression"),
    (HIFI, ["loading.temperature.expression='300 / (z - z)'"], "loading.temperature.expression"),
    (HIFI, ["loading.temperature.expression='log(x - 1)'"], "loading.temperature.expression"),
    (HIFI, [f"loading.temperature.file={F}/three_values.csv"], "loading.temperature.file"),
    (HIFI, [f"loading.temperature.file={F}/nan_values.npy"], "loading.temperature.file"),
    (HIFI, [f"loading.temperature.file={F}/object_values.npy"], "loading.temperature.file"),
    (HIFI, [f"loading.temperature.file={F}/words.csv"], "loading.temperature.file"),
    (HIFI, ["loading.temperature.file=nowhere.csv"], "loading.temperature.file"),
    # rom_online
    (ROM, ["tolerances.displacement=1e308"], "tolerances.displacement"),
    (ROM, ["tolerances.indicator=0"], "tolerances.indicator"),
    (ROM, [f"training.rom_file={F}/random.h5"], "training.rom_file"),
    (ROM, [f"training.rom_file={F}/nbody_result.h5"], "training.rom_file"),
    (ROM, [f"training.rom_file={F}/empty_rom.h5"], "training.rom_file"),
    (ROM, ["training.rom_file=nowhere.h5"], "training.rom_file"),
    (ROM, ["training.fields=[{nope: 1.0}]"], "training.fields"),
    (CAMPAIGN, ["campaign.loadings=[{temperature.parameters.nope: 1.0}]"], "campaign.loadings[0]"),
    (CAMPAIGN, ["campaign.loadings=[{rotation.speed: -1.0}]"], "loading.rotation.speed"),
    (CAMPAIGN, ["campaign.family={rotation.speed: [2.0, 1.0]}"], "campaign.family.rotation.speed"),
    (CAMPAIGN, ["campaign.loadings=[]", "campaign.draws=0"], "campaign: no loadings"),
    (CAMPAIGN, ["campaign.verify_every=-1"], "campaign.verify_every"),
    (ROM, ["training.fields=[{height: 0.0}]"], "training.fields[0]"),
    (ROM, ["training.loadings=[{rotation.sped: 900.0}]"], "training.loadings[0]: 'rotation.sped' is not a field under loading"),
    (ROM, ["training.loadings=[{}, {rotation.speed: -1.0}]"], "training.loadings[1]: loading.rotation.speed"),
    (ROM, ["training.fields=[]"], "training: no training run"),
    # the command line
    (QUICK, ["t_end"], "--set"),
    (QUICK, ["t_end=[1"], "--set"),
]

YAML_FILES = [
    ("kind: nbody\nt_end: 1.0\nt_end: 2.0\n", "key 't_end' is given twice"),
    ("kind: nbody\nt_end: 1.0\nx: " + "[" * 10000 + "]" * 10000 + "\n", "nested deeper"),
    (
        "kind: nbody\nt_end: 1.0\na0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
        + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9)),
        "aliases expanded",
    ),
    ("- kind: nbody\n", "the top level must be a mapping"),
    ("kind: nbody\nt_end: [1.0\n", "invalid YAML"),
    ("t_end: 1.0\n", "kind"),
    ("kind: warp_drive\n", "kind"),
    ("", "the top level must be a mapping"),
    ("kind: nbody\nt_end: !!python/object/apply:os.system [echo hi]\n", "invalid YAML"),
]


def _answer(command: list[str], capsys) -> tuple[int, list[str]]:
    code = main(command)
    captured = capsys.readouterr()
    return code, [line for line in captured.err.splitlines() if line.strip()]


def _check_refused(case: Path, overrides: list[str], expected: str, tmp_path: Path, capsys) -> None:
    sets = [argument for override in overrides for argument in ("--set", override)]
    out = tmp_path / "out"
    for command in (["validate", str(case), *sets], ["run", str(case), "--out", str(out), *sets]):
        code, lines = _answer(command, capsys)
        assert code == 2, (command, lines)
        assert len(lines) == 1, lines
        assert "Traceback" not in lines[0]
        assert lines[0].startswith("adaptsim: error: ") and (str(case) in lines[0] or "--set" in lines[0]), lines[0]
        assert expected in lines[0], lines[0]
        assert not out.exists(), f"{command[0]} wrote {list(out.iterdir())}"


@pytest.mark.parametrize("base, overrides, expected", ROWS, ids=[f"{base}:{' '.join(o)}"[:80] for base, o, _ in ROWS])
def test_bad_case_is_one_line_and_exit_2(base, overrides, expected, files, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)  # cases refer to files relative to the repository (the shipped agent)
    overrides = [override.replace(F, str(files)) for override in overrides]
    _check_refused(CASES / f"{base}.yaml", overrides, expected, tmp_path, capsys)


@pytest.mark.parametrize("text, expected", YAML_FILES, ids=[expected for _, expected in YAML_FILES])
def test_bad_yaml_is_one_line_and_exit_2(text, expected, tmp_path, capsys):
    case = tmp_path / "case.yaml"
    case.write_text(text)
    _check_refused(case, [], expected, tmp_path, capsys)


@pytest.mark.parametrize("make", [lambda p: None, lambda p: p.mkdir(), lambda p: p.write_bytes(bytes(range(256)) * 4)])
def test_missing_folder_or_binary_case_file(make, tmp_path, capsys):
    case = tmp_path / "case.yaml"
    make(case)
    _check_refused(case, [], "", tmp_path, capsys)
