"""The rl_target_train case: PPO in the native vector env on normalized observations; checkpoints keep the
statistics and a resume continues them; the final agent has them folded in and acts on raw observations."""

import numpy as np
import pytest
import torch

from adaptsim.cases import load_case
from adaptsim.errors import CaseError
from adaptsim.results import load_results
from rl_agents.envs.target import TargetAccuracyEnv
from rl_agents.normalization import ObservationNormalization
from rl_agents.saved_agents import load_model, load_saved, observation_statistics, read_agent
from tests import processes

SMALL = {
    "env": "{episode_intervals: 10}",
    "hyperparameters": "{n_steps: 32, batch_size: 64, n_epochs: 1}",
    "policy": "{net_arch: [16]}",
    "n_envs": 4,
    "evaluation": "{n_seeds: 3, targets: [1.0e-8], every: 128}",
    "checkpoint_every": 128,
    "tensorboard": "false",
}


def small_case(tmp_path, **fields):
    lines = ["kind: rl_target_train", *[f"{key}: {value}" for key, value in (SMALL | fields).items()]]
    path = tmp_path / "case.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def train(case, out, total):
    with processes.spawned(["adaptsim", "run", str(case), "--out", str(out), "--set", f"total_timesteps={total}"]) as process:
        stdout, stderr = processes.finish(process, 280)
    assert process.returncode == 0, stderr
    return stdout + stderr


def _logits(model, observations):
    with torch.no_grad():
        return model.policy.get_distribution(torch.as_tensor(observations, dtype=torch.float32)).distribution.logits.numpy()


@pytest.mark.slow
def test_training_resumes_its_statistics_and_ships_them_folded(tmp_path):
    case, out = small_case(tmp_path), tmp_path / "out"
    train(case, out, 128)
    checkpoint = read_agent(out / "checkpoints" / "model_128_steps.zip")
    saved = observation_statistics(checkpoint)
    assert saved is not None and not saved.folded and saved.count > 128
    output = train(case, out, 256)
    assert "resuming from checkpoints/model_128_steps.zip" in output
    final = read_agent(out / "model.zip")
    statistics = observation_statistics(final)
    assert statistics is not None and statistics.folded
    assert statistics.count >= saved.count + 128  # continued, not started again
    results = load_results(out / "result.h5")
    assert results.attrs["summary"]["resumed_from_steps"] == 128 and list(results["timesteps"])[-1] == 256
    assert set(results.data) >= {"success_1e-08", "cost_1e-08"} and (out / "learning_curve.png").exists()

    # A checkpoint read to act gets its statistics folded in: on raw observations it acts as the training saw it.
    env = TargetAccuracyEnv(episode_intervals=10)
    raw = np.array([env.reset(seed=seed)[0] for seed in range(20)])
    latest = read_agent(out / "checkpoints" / "model_256_steps.zip")
    unfolded, folded = load_model(latest, env), load_saved(latest, env)
    training_view = observation_statistics(latest)
    assert isinstance(training_view, ObservationNormalization)
    np.testing.assert_allclose(_logits(folded, raw), _logits(unfolded, training_view(raw)), rtol=1e-4, atol=1e-4)
    assert load_saved(final, env).num_timesteps == 256


@pytest.mark.parametrize(
    "fields, text",
    [
        ({"algorithm": "SAC"}, "SAC needs continuous actions, not discrete"),
        ({"algorithm": "DQN"}, "normalize_observations needs one of A2C, PPO, TRPO, not DQN"),
        ({"evaluation": "{targets: [2.0]}"}, "evaluation.targets must be at most 1"),
        ({"hyperparameters": "{n_step: 3}"}, "PPO takes no 'n_step'"),
    ],
)
def test_bad_cases_are_refused_in_one_line(tmp_path, fields, text):
    with pytest.raises(CaseError, match=text.replace(".", r"\.").replace("[", r"\[")):
        load_case(small_case(tmp_path, **fields))
