"""Kickstarting: discounted returns within episodes, and an actor-critic that imitates the repair rule after it."""

import numpy as np
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecNormalize

from adaptsim.cases import load_case
from adaptsim.errors import CaseError
from adaptsim.results import load_results
from rl_agents.envs.sb3_vector import SB3VectorAdapter
from rl_agents.envs.target_config import TargetConfig
from rl_agents.envs.target_vector import TargetAccuracyVectorEnv
from rl_agents.hand_rules import RepairRule
from rl_agents.kickstart import collect, discounted_returns, kickstart
from tests.rl_agents.test_target_train import small_case, train


def test_returns_are_discounted_within_each_episode_and_only_complete_episodes_count():
    rewards = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    dones = np.array([[False, False], [True, False], [False, True]])
    returns, complete = discounted_returns(rewards, dones, 0.5)
    np.testing.assert_allclose(returns[:2, 0], [1.0 + 0.5 * 2.0, 2.0])  # the episode that ended at step 1
    np.testing.assert_allclose(returns[:, 1], [1.0 + 0.5 * 2.0 + 0.25 * 3.0, 2.0 + 0.5 * 3.0, 3.0])
    np.testing.assert_array_equal(complete, [[True, True], [True, True], [False, True]])  # env 0's last step never ended


def _model(n_envs=8):
    env = VecNormalize(SB3VectorAdapter(TargetAccuracyVectorEnv(n_envs, TargetConfig(episode_intervals=10))), norm_reward=False)
    env.seed(0)
    return PPO("MlpPolicy", env, n_steps=32, batch_size=64, seed=0, device="cpu", policy_kwargs={"net_arch": [64, 64]})


def test_the_teacher_is_recorded_on_raw_observations_and_the_statistics_follow_them():
    model = _model()
    demonstrations = collect(model.get_env(), RepairRule(TargetConfig(episode_intervals=10)), 160)
    assert demonstrations.observations.shape == (20, 8, 11) and demonstrations.dones.sum() >= 8  # 10 intervals each
    np.testing.assert_array_equal(demonstrations.observations[0, :, 2], 1.0)  # raw: the whole run left at the start
    assert model.get_vec_normalize_env().obs_rms.count > 160


def test_after_kickstart_the_actor_picks_the_teachers_actions_and_the_critic_predicts_its_returns():
    model = _model()
    facts = kickstart(model, RepairRule(TargetConfig(episode_intervals=10)), steps=4000, epochs=20, batch_size=256)
    assert facts["kickstart_samples"] > 3000
    assert facts["kickstart_agreement_before"] < 0.5 < 0.95 < facts["kickstart_agreement"]
    assert facts["kickstart_value_mse"] < 0.5 * facts["kickstart_value_mse_before"]


@pytest.mark.parametrize(
    "fields, text",
    [
        (
            {"kickstart": "{steps: 100}", "algorithm": "DQN", "normalize_observations": "false", "hyperparameters": "{}"},
            "algorithm must be one of A2C, PPO, TRPO",
        ),
        ({"kickstart": "{steps: 100}", "env": "{features: scaled}"}, "features='absolute'"),
    ],
)
def test_a_kickstart_the_repair_rule_cannot_teach_is_refused(tmp_path, fields, text):
    with pytest.raises(CaseError, match=text):
        load_case(small_case(tmp_path, **fields))


@pytest.mark.slow
def test_a_kickstarted_training_records_how_well_the_agent_imitated(tmp_path):
    out = tmp_path / "out"
    output = train(small_case(tmp_path, kickstart="{steps: 2000, epochs: 5}"), out, 128)
    assert "prepared the new model: kickstart_samples" in output
    summary = load_results(out / "result.h5").attrs["summary"]
    assert summary["kickstart_agreement"] > summary["kickstart_agreement_before"]
