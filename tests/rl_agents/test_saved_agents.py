"""Agent files load without running code from them: crafted zips, truncated files, foreign files."""

import shutil
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from adaptsim.errors import CaseError
from rl_agents.envs.config import EnvConfig
from rl_agents.saved_agents import AgentFileError, read_agent
from rl_agents.saved_agents import load_agent as load_agent_file
from tests import processes
from tests.rl_agents.crafted import SHIPPED, crafted_agent

ADAPTSIM = shutil.which("adaptsim") or str(Path(sys.executable).parent / "adaptsim")


def test_crafted_payload_is_live_under_sb3s_own_loader(tmp_path):
    """Guards the tests below: the same payload does run when Stable-Baselines3 loads the file itself."""
    crafted, marker = crafted_agent(tmp_path, "observation_space")
    code = f"import stable_baselines3, warnings; warnings.simplefilter('ignore'); stable_baselines3.DQN.load({str(crafted)!r})"
    processes.run([sys.executable, "-c", code], timeout=120, cwd=tmp_path)
    assert marker.exists()


def test_payload_in_a_rebuilt_entry_never_runs(tmp_path):
    crafted, marker = crafted_agent(tmp_path, "observation_space")
    model = load_agent_file(crafted, EnvConfig())
    assert not marker.exists()
    assert model.observation_space.shape == (8,)


@pytest.mark.parametrize("how", ["api", "validate", "run"])
def test_payload_in_an_unknown_entry_is_refused_everywhere(tmp_path, how):
    crafted, marker = crafted_agent(tmp_path, "evil")
    case = tmp_path / "eval.yaml"
    case.write_text(f"kind: rl_eval\nmodel: {crafted}\nn_seeds: 2\nsteps: 5\n")
    if how == "api":
        with pytest.raises(CaseError, match="holds a pickled entry 'evil' that adaptsim cannot rebuild"):
            load_agent_file(crafted, EnvConfig())
    else:
        out = tmp_path / "out"
        command = [ADAPTSIM, how, str(case)] + (["--out", str(out)] if how == "run" else [])
        completed = processes.run(command, timeout=300, cwd=tmp_path)
        assert completed.returncode == 2
        lines = completed.stderr.strip().splitlines()
        assert len(lines) == 1 and "eval.yaml: model:" in lines[0] and "'evil'" in lines[0], completed.stderr
        assert not out.exists()
    assert not marker.exists()


def test_shipped_agent_weights_are_the_files_tensors():
    model = load_agent_file(SHIPPED, EnvConfig())
    with zipfile.ZipFile(SHIPPED) as archive, archive.open("policy.pth") as handle:
        saved = torch.load(handle, weights_only=True)
    loaded = model.policy.state_dict()
    assert set(saved) == set(loaded)
    assert all(torch.equal(saved[name], loaded[name]) for name in saved)


@pytest.mark.parametrize(
    "make, text",
    [
        (lambda p: p.write_bytes(SHIPPED.read_bytes()[:5000]), "not a complete zip archive"),
        (lambda p: p.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100)), "not a complete zip archive"),
        (lambda p: p.mkdir(), "is a directory, not an agent file"),
        (lambda p: zipfile.ZipFile(p, "w").writestr("other", "x"), "without the 'data' entry"),
        (lambda p: zipfile.ZipFile(p, "w").writestr("data", "{not json"), "not JSON"),
        (lambda p: zipfile.ZipFile(p, "w").writestr("data", "[1, 2]"), "not a JSON object"),
    ],
)
def test_unreadable_agent_files_are_one_line(tmp_path, make, text):
    path = tmp_path / "agent.zip"
    make(path)
    with pytest.raises(AgentFileError, match=text) as caught:
        read_agent(path)
    assert "\n" not in str(caught.value)


def test_shipped_target_agent_is_small_folded_and_acts_on_raw_observations():
    from rl_agents.envs.target import TargetAccuracyEnv
    from rl_agents.saved_agents import load_saved, observation_statistics

    path = Path(__file__).resolve().parents[2] / "rl_agents" / "trained" / "ppo_target.zip"
    assert path.stat().st_size <= 2 * 2**20
    agent = read_agent(path)
    statistics = observation_statistics(agent)
    assert agent.recipe.algorithm == "PPO" and statistics is not None and statistics.folded
    assert agent.recipe.extra["train_wall_time_s"] > 0 and agent.recipe.extra["case"]["kind"] == "rl_target_train"
    env = TargetAccuracyEnv(episode_intervals=3)
    model = load_saved(agent, env)
    observation, _ = env.reset(seed=0, options={"target": 1e-10})
    action, _ = model.predict(observation, deterministic=True)
    assert env.action_space.contains(int(action))
