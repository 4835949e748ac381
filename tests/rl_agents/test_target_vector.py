"""The native vector environment of the target-accuracy task: equal step by step to the single environment."""

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecMonitor

import rl_agents  # noqa: F401  registers the ids
from rl_agents.envs import TARGET_ENV_ID
from rl_agents.envs.sb3_vector import SB3VectorAdapter
from rl_agents.envs.target import TargetAccuracyEnv
from rl_agents.envs.target_vector import TargetAccuracyVectorEnv

N_ENVS = 5
# short episodes, so that several end (and are reset in the same step) within the test; a low breakdown level, so
# that some end early (terminated) on Hermite
OPTIONS = {"episode_intervals": 6, "max_energy_error": 3e-12}


def _actions(n_actions, n_steps, seed):
    return np.random.default_rng(seed).integers(0, n_actions, size=(n_steps, N_ENVS))


def test_make_vec_by_id_gives_the_native_vector_env():
    env = gym.make_vec(TARGET_ENV_ID, num_envs=4, vectorization_mode="vector_entry_point", redo=False)
    assert isinstance(env.unwrapped, TargetAccuracyVectorEnv) and env.num_envs == 4
    assert env.action_space.shape == (4,) and env.single_action_space.n == 6
    assert env.observation_space.shape == (4, 11)


@pytest.mark.parametrize(
    "extra",
    [
        {"features": "absolute"},
        {"features": "scaled"},
        {"repair": {"integrator": "archain", "value": 1e-14}},
        {"initial_conditions": ["paper", "hierarchical"], "reference_cost": {"paper": 45.0, "hierarchical": 62.0}},
    ],
    ids=["absolute", "scaled", "repair", "mixture"],
)
def test_vector_env_equals_the_single_env_step_by_step(extra):
    options = OPTIONS | extra
    vector = TargetAccuracyVectorEnv(N_ENVS, **options)
    singles = [TargetAccuracyEnv(**options) for _ in range(N_ENVS)]
    observations, infos = vector.reset(seed=11)
    for index, env in enumerate(singles):
        observation, info = env.reset(seed=11 + index)
        np.testing.assert_array_equal(observations[index], observation)
        assert infos["target"][index] == info["target"] and infos["cost"][index] == info["cost"]
    ended_count = terminated_count = redone = repaired = 0
    for actions in _actions(vector.single_action_space.n, 24, seed=5):
        observations, rewards, terminated, truncated, infos = vector.step(actions)
        for index, env in enumerate(singles):
            redos_before = env.redos
            observation, reward, single_terminated, single_truncated, info = env.step(actions[index])
            repaired += env.redos - redos_before == 1 + info["redo"]  # (a redo of the first interval is not counted)
            assert (terminated[index], truncated[index]) == (single_terminated, single_truncated)
            assert rewards[index] == pytest.approx(reward, rel=1e-12, abs=1e-12)
            redone += info["redo"]
            if single_terminated or single_truncated:
                ended_count += 1
                terminated_count += single_terminated
                np.testing.assert_array_equal(infos["final_obs"][index], observation)
                assert infos["final_info"]["cost"][index] == pytest.approx(info["cost"], rel=1e-12)
                assert infos["final_info"]["met"][index] == info["met"]
                observation, info = env.reset()  # the vector env resets it in the same step
            else:
                # (the single env adds a restart's and the interval's cost one by one: round-off apart)
                assert infos["cost"][index] == pytest.approx(info["cost"], rel=1e-12)
                assert infos["energy_error"][index] == info["energy_error"]
                assert infos["choice"][index] == info["choice"]
            np.testing.assert_array_equal(observations[index], observation)
    assert ended_count >= N_ENVS and terminated_count >= 1 and redone >= 10  # every path was taken
    assert ("repair" in options) == (repaired > 0)


def test_the_same_seed_repeats_and_another_differs():
    def run(seed):
        env = TargetAccuracyVectorEnv(N_ENVS, **OPTIONS)
        trace = [env.reset(seed=seed)[0]]
        for actions in _actions(env.single_action_space.n, 8, seed=2):
            observations, rewards, *_ = env.step(actions)
            trace += [observations, rewards]
        return trace

    first, again, other = run(3), run(3), run(4)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert np.abs(first[0] - other[0]).max() > 1e-3
    assert all(env_obs in TargetAccuracyVectorEnv(N_ENVS).single_observation_space for env_obs in first[-2])


def test_stable_baselines3_sees_the_episodes_end_and_learns_on_it():
    adapter = SB3VectorAdapter(TargetAccuracyVectorEnv(N_ENVS, **OPTIONS), final_keys=("met", "cost"))
    adapter.seed(11)
    observations = adapter.reset()
    single = TargetAccuracyEnv(**OPTIONS)
    np.testing.assert_array_equal(observations[2], single.reset(seed=13)[0])
    ended = 0
    for actions in _actions(adapter.action_space.n, 24, seed=5):
        adapter.step_async(actions)
        _, rewards, dones, infos = adapter.step_wait()
        for index in np.flatnonzero(dones):
            ended += 1
            info = infos[index]
            assert info["terminal_observation"].shape == (11,) and isinstance(info["met"], np.bool_)
            assert info["TimeLimit.truncated"] == (info["terminal_observation"][2] == 0.0)  # no intervals left
        assert all(infos[index] == {} for index in np.flatnonzero(~dones)) and rewards.dtype == np.float32
    assert ended >= N_ENVS
    env = VecMonitor(adapter)
    model = PPO("MlpPolicy", env, n_steps=8, batch_size=20, n_epochs=1, seed=0, device="cpu")
    model.learn(80)
    assert model.num_timesteps == 80 and len(model.ep_info_buffer) > 0


def test_redoing_for_ever_ends_the_episode_as_failed_in_both_envs():
    options = {"episode_intervals": 3}
    vector, single = TargetAccuracyVectorEnv(1, **options), TargetAccuracyEnv(**options)
    vector.reset(seed=1)
    single.reset(seed=1)
    redo = len(single.choices)  # redo with the first choice
    for step in range(5):  # one interval, then redos: the fourth redo is one too many
        action = 0 if step == 0 else redo
        _, reward, terminated, truncated, info = single.step(action)
        _, rewards, vector_terminated, _, infos = vector.step(np.array([action]))
        assert vector_terminated[0] == terminated == (step == 4) and not truncated
        assert rewards[0] == pytest.approx(reward, rel=1e-12)
    assert not info["met"] and not infos["final_info"]["met"][0] and reward < -10.0  # counted as 1e3
