"""Training through the command line: checkpoints, resume after a kill, bad input."""

import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

from adaptsim.cases import load_case
from adaptsim.errors import CaseError
from adaptsim.results import load_results
from rl_agents.envs.config import EnvConfig
from rl_agents.saved_agents import load_agent
from tests import processes

ROOT = Path(__file__).resolve().parents[2]
ADAPTSIM = shutil.which("adaptsim") or str(Path(sys.executable).parent / "adaptsim")
QUICK = ROOT / "cases" / "rl_train_quick.yaml"


def train(out, *overrides):
    """A training run in the background (a context manager: left, it is killed with its children)."""
    args = [ADAPTSIM, "run", str(QUICK), "--out", str(out)]
    for override in overrides:
        args += ["--set", override]
    return processes.spawned(args)


@pytest.mark.slow
def test_training_is_killed_and_resumes(tmp_path):
    out = tmp_path / "train"
    checkpoints = out / "checkpoints"
    with train(out, "total_timesteps=200000", "checkpoint_every=400", "evaluation.every=1200") as process:
        deadline = time.time() + 240
        while time.time() < deadline and not list(checkpoints.glob("model_*_steps.zip")):
            time.sleep(0.1)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    assert not (out / "model.zip").exists() and not (out / "result.h5").exists()
    saved = sorted(int(p.stem.split("_")[1]) for p in checkpoints.glob("model_*_steps.zip"))
    leftover = checkpoints / ".model_9999_steps.zip.abc.partial"
    leftover.write_bytes(b"half a file")
    assert saved, "no checkpoint before the kill"
    total = max(2400, saved[-1])  # a fast machine may have saved its last checkpoint at the total: nothing left to learn
    with train(out, f"total_timesteps={total}", "checkpoint_every=400", "evaluation.every=1200") as process:
        _, stderr = processes.finish(process, 300)
    assert process.returncode == 0, stderr
    results = load_results(out / "result.h5")
    summary = results.attrs["summary"]
    assert summary["resumed_from_steps"] == saved[-1] and summary["timesteps"] == total
    assert results["timesteps"][0] <= 2 and results["timesteps"][-1] == total  # history before the kill kept, final model evaluated
    assert not leftover.exists()
    assert (out / "learning_curve.png").exists() and (out / "tensorboard").is_dir()
    model = load_agent(out / "model.zip", EnvConfig())
    assert model.num_timesteps == total
    with pytest.raises(CaseError, match="another observation layout"):
        load_agent(out / "model.zip", EnvConfig(observation="paper"))
    eval_case = tmp_path / "eval.yaml"
    eval_case.write_text(f"kind: rl_eval\nmodel: {out / 'model.zip'}\nenv: {{observation: paper}}\n")
    with pytest.raises(
        CaseError, match=r"eval.yaml: model: the agent in .* expects observations of shape \(8,\), env.observation 'paper' gives \(13,\)"
    ):
        load_case(eval_case)


QUICK_SMALL = ("n_envs=1", "vec_env=dummy", "evaluation.n_seeds=1", "evaluation.steps=5", "evaluation.every=200", "checkpoint_every=200")


def test_another_case_does_not_resume_checkpoints(tmp_path):
    out = tmp_path / "train"
    with train(out, *QUICK_SMALL, "total_timesteps=400", "hyperparameters.learning_starts=100") as first:
        _, stderr = processes.finish(first, 300)
    assert first.returncode == 0, stderr
    with train(out, *QUICK_SMALL, "total_timesteps=600", "hyperparameters.learning_starts=100", "hyperparameters.gamma=0.9") as second:
        _, stderr = processes.finish(second, 300)
    assert second.returncode == 2
    errors = [line for line in stderr.splitlines() if not line.startswith("adaptsim running")]
    assert len(errors) == 1 and "model_400_steps.zip: was trained from another case (changed: hyperparameters)" in errors[0], stderr
    assert "delete" in errors[0]


def test_a_run_killed_after_its_last_checkpoint_evaluates_the_final_agent_on_resume(tmp_path):
    out = tmp_path / "train"
    small = (*QUICK_SMALL, "evaluation.every=300", "total_timesteps=400", "hyperparameters.learning_starts=100")
    with train(out, *small) as first:
        _, stderr = processes.finish(first, 300)
    assert first.returncode == 0, stderr
    (out / "model.zip").unlink()
    (out / "result.h5").unlink()  # as if killed after the checkpoint at 400 steps, before the final evaluation
    with train(out, *small) as second:
        _, stderr = processes.finish(second, 300)
    assert second.returncode == 0, stderr
    results = load_results(out / "result.h5")
    assert results.attrs["summary"]["resumed_from_steps"] == 400
    assert list(results["timesteps"]) == [1, 301, 400]


def test_training_in_the_native_vector_env_with_normalized_observations(tmp_path):
    out = tmp_path / "train"
    native = ("n_envs=8", "vec_env=native", "evaluation.n_seeds=1", "evaluation.steps=5", "evaluation.every=200", "checkpoint_every=200")
    with train(
        out, *native, "total_timesteps=400", "algorithm=PPO", "hyperparameters={n_steps: 16, batch_size: 32}", "normalize_observations=true"
    ) as run:
        _, stderr = processes.finish(run, 300)
    assert run.returncode == 0, stderr
    assert load_results(out / "result.h5").attrs["summary"]["timesteps"] >= 400
    model = load_agent(out / "model.zip", EnvConfig())  # (statistics folded in: acts on raw observations)
    assert model.policy.mlp_extractor.policy_net[0].in_features == 8


def test_corrupt_latest_checkpoint_falls_back_to_the_previous_one(tmp_path):
    out = tmp_path / "train"
    with train(out, *QUICK_SMALL, "total_timesteps=400", "hyperparameters.learning_starts=100") as first:
        _, stderr = processes.finish(first, 300)
    assert first.returncode == 0, stderr
    latest = out / "checkpoints" / "model_400_steps.zip"
    latest.write_bytes(latest.read_bytes()[:3000])  # truncated, as by a kill in a non-atomic writer
    (out / "checkpoints" / "replay_buffer_200_steps.npz").unlink()
    with train(out, *QUICK_SMALL, "total_timesteps=600", "hyperparameters.learning_starts=100") as second:
        _, stderr = processes.finish(second, 300)
    assert second.returncode == 0, stderr
    assert "model_400_steps.zip cannot be resumed (is not a readable agent file" in stderr
    assert "replay buffer replay_buffer_200_steps.npz is missing: resuming with an empty replay buffer" in stderr
    assert load_results(out / "result.h5").attrs["summary"]["resumed_from_steps"] == 200


@pytest.mark.parametrize(
    "overrides, text",
    [
        (["algorithm=DQNN"], "algorithm: unknown algorithm 'DQNN'"),
        (["hyperparameters.learning_rat=0.1"], "hyperparameters: DQN takes no 'learning_rat'"),
        (["env.parameters=[]"], "env.parameters: list should have at least 1 item"),
        (["env.integrator=euler"], "env.integrator: input should be"),
        (["algorithm=SAC"], "SAC needs env.action: continuous"),
        (["policy.optimizer=lion"], "policy.optimizer: input should be"),
    ],
)
def test_bad_training_cases(overrides, text):
    with pytest.raises(CaseError, match=text):
        load_case(QUICK, overrides)


def test_missing_model_file(tmp_path):
    case = tmp_path / "eval.yaml"
    case.write_text("kind: rl_eval\nmodel: nowhere/agent.zip\n")
    with pytest.raises(CaseError, match="model: file 'nowhere/agent.zip' does not exist"):
        load_case(case)
