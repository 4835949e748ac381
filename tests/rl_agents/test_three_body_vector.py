"""The native vector environment of the paper's task: equal step by step to the single environment."""

import gymnasium as gym
import numpy as np
import pytest

import rl_agents  # noqa: F401  registers the ids
from rl_agents.envs import ENV_ID
from rl_agents.envs.three_body import ThreeBodyEnv
from rl_agents.envs.three_body_vector import ThreeBodyVectorEnv

N_ENVS = 4


def test_make_vec_by_id_gives_the_native_vector_env():
    env = gym.make_vec(ENV_ID, num_envs=3, vectorization_mode="vector_entry_point", observation="paper")
    assert isinstance(env.unwrapped, ThreeBodyVectorEnv) and env.num_envs == 3
    assert env.observation_space.shape == (3, 13) and env.single_action_space.n == 10


@pytest.mark.parametrize(
    "options",
    [
        {},  # Hermite, collision criterion, invariant observation, cost reward
        {"observation": "paper", "reward": "paper", "action": "continuous"},
        {"integrator": "ias15", "parameters": [1e-9, 1e-7, 1e-5], "interval": 30.0, "max_integrator_steps": 4},
    ],
)
def test_vector_env_equals_the_single_env_step_by_step(options):
    # short episodes and a low breakdown level, so that episodes end (terminated and truncated) and are reset
    options = {"episode_steps": 5, "max_energy_error": 1e-9} | options
    vector = ThreeBodyVectorEnv(N_ENVS, **options)
    singles = [ThreeBodyEnv(**options) for _ in range(N_ENVS)]
    observations, infos = vector.reset(seed=7)
    for index, env in enumerate(singles):
        observation, info = env.reset(seed=7 + index)
        np.testing.assert_array_equal(observations[index], observation)
        assert infos["total_force_evals"][index] == info["total_force_evals"]
    rng = np.random.default_rng(1)
    ended = terminated_count = 0
    for _ in range(16):
        actions = np.array([vector.single_action_space.sample() for _ in range(N_ENVS)])
        if options.get("action") != "continuous":
            actions = rng.integers(0, len(vector.parameters), N_ENVS)
        observations, rewards, terminated, truncated, infos = vector.step(actions)
        for index, env in enumerate(singles):
            observation, reward, single_terminated, single_truncated, info = env.step(actions[index])
            assert (terminated[index], truncated[index]) == (single_terminated, single_truncated)
            assert rewards[index] == pytest.approx(reward, rel=1e-12, abs=1e-12)
            if single_terminated or single_truncated:
                ended += 1
                terminated_count += single_terminated
                np.testing.assert_array_equal(infos["final_obs"][index], observation)
                assert infos["final_info"]["total_force_evals"][index] == info["total_force_evals"]
                assert infos["final_info"]["energy_error"][index] == info["energy_error"]
                observation, info = env.reset()  # the vector env resets it in the same step
            else:
                assert infos["energy_error"][index] == info["energy_error"]
                assert infos["total_force_evals"][index] == info["total_force_evals"]
                assert infos["parameter"][index] == info["parameter"]
            np.testing.assert_array_equal(observations[index], observation)
    assert ended >= N_ENVS and terminated_count >= 1


def test_the_same_seed_repeats_and_another_differs():
    def run(seed):
        env = ThreeBodyVectorEnv(N_ENVS)
        trace = [env.reset(seed=seed)[0]]
        for step in range(4):
            observations, rewards, *_ = env.step(np.full(N_ENVS, step))
            trace += [observations, rewards]
        return trace

    first, again, other = run(3), run(3), run(4)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert np.abs(first[0] - other[0]).max() > 1e-3
