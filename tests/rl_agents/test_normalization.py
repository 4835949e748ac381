"""Observation statistics: folded into the first layers, the agent computes on raw observations what it computed on
normalized ones; the manifest entry is checked."""

import numpy as np
import pytest
import torch
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from rl_agents.envs.target import TargetAccuracyEnv
from rl_agents.envs.target_config import TargetConfig
from rl_agents.normalization import ObservationNormalization

SIZE = TargetConfig().observation_size  # the default layout's


def _outputs(policy, observations):
    with torch.no_grad():
        tensor = torch.as_tensor(observations, dtype=torch.float32)
        return policy.get_distribution(tensor).distribution.logits.numpy(), policy.predict_values(tensor).numpy()


@pytest.mark.parametrize("net_arch", [[32, 16], []])
def test_folded_statistics_give_the_same_actions_and_values_on_raw_observations(net_arch):
    env = VecNormalize(DummyVecEnv([lambda: TargetAccuracyEnv(episode_intervals=5)]), norm_reward=False, clip_obs=np.inf)
    model = PPO("MlpPolicy", env, policy_kwargs={"net_arch": net_arch}, seed=1, device="cpu")
    rng = np.random.default_rng(0)
    env.obs_rms.mean = rng.normal(0.0, 5.0, SIZE)
    env.obs_rms.var = rng.uniform(0.01, 30.0, SIZE)
    raw = rng.normal(env.obs_rms.mean, np.sqrt(env.obs_rms.var), (50, SIZE))
    logits, values = _outputs(model.policy, env.normalize_obs(raw))
    statistics = ObservationNormalization.of(env)
    folded = statistics.fold_into(model.policy)
    assert folded.folded and not statistics.folded
    folded_logits, folded_values = _outputs(model.policy, raw)
    np.testing.assert_allclose(folded_logits, logits, rtol=1e-4, atol=1e-4 * np.abs(logits).max())
    np.testing.assert_allclose(folded_values, values, rtol=1e-4, atol=1e-4 * np.abs(values).max())
    assert not np.allclose(_outputs(model.policy, env.normalize_obs(raw))[0], logits, atol=1e-3)  # (folding changed the layers)


def test_statistics_fold_only_into_actor_critic_networks():
    model = DQN("MlpPolicy", DummyVecEnv([lambda: TargetAccuracyEnv(episode_intervals=5)]), buffer_size=10, device="cpu")
    statistics = ObservationNormalization(np.zeros(SIZE), np.ones(SIZE), 1.0, 1e-8)
    with pytest.raises(ValueError, match="actor-critic"):
        statistics.fold_into(model.policy)


def test_the_manifest_entry_round_trips_and_bad_entries_are_named():
    statistics = ObservationNormalization(np.arange(3.0), np.full(3, 2.0), 10.0, 1e-8, folded=True)
    again = ObservationNormalization.from_manifest({"observation_normalization": statistics.to_manifest()}, 3)
    assert again is not None and again.folded and np.array_equal(again.mean, statistics.mean) and again.count == 10.0
    np.testing.assert_allclose(again(np.array([1.0, 1.0, 1.0])), (np.array([1.0, 0.0, -1.0])) / np.sqrt(2.0 + 1e-8))
    assert ObservationNormalization.from_manifest({}, 3) is None
    entry = statistics.to_manifest()
    with pytest.raises(ValueError, match="3 components for observations of 4"):
        ObservationNormalization.from_manifest({"observation_normalization": entry}, 4)
    with pytest.raises(ValueError, match="negative variance"):
        ObservationNormalization.from_manifest({"observation_normalization": entry | {"var": [1.0, -1.0, 1.0]}}, 3)
    with pytest.raises(ValueError, match="without numeric"):
        ObservationNormalization.from_manifest({"observation_normalization": {"mean": "x"}}, 3)
