"""The three-body environment: checkers, determinism, rewards, initial conditions, bad configuration."""

import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from pydantic import ValidationError
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import rl_agents  # noqa: F401  registers the id
from nbody import initial_conditions as ic
from rl_agents.envs import ENV_ID
from rl_agents.envs.config import EnvConfig
from rl_agents.envs.three_body import ThreeBodyEnv, cost_reward, paper_reward


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"observation": "paper", "reward": "paper"},
        {"action": "continuous"},
        {"integrator": "ias15", "parameters": [1e-9, 1e-6]},
        {"integrator": "leapfrog", "initial_conditions": "random"},
    ],
)
def test_env_passes_both_checkers(options):
    env = gym.make(ENV_ID, **options)
    gym_check_env(env.unwrapped, skip_render_check=True)
    sb3_check_env(env.unwrapped, warn=False)
    size = 13 if options.get("observation") == "paper" else 8
    assert env.observation_space.shape == (size,)


def test_determinism_with_a_seed():
    def rollout():
        env = ThreeBodyEnv()
        observation, _ = env.reset(seed=7)
        trace = [observation]
        for action in [9, 3, 6, 0, 5]:
            observation, reward, terminated, truncated, info = env.step(action)
            trace += [observation, reward, info["total_force_evals"], info["energy_error"]]
        return trace

    first, second = rollout(), rollout()
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_different_seeds_give_different_episodes():
    """A constant environment (seed ignored) would pass the determinism test; here two seeds must differ."""

    def rollout(seed):
        env = ThreeBodyEnv()
        observation, _ = env.reset(seed=seed)
        _, reward, _, _, info = env.step(5)
        return observation, reward, info["total_force_evals"]

    (obs_a, reward_a, evals_a), (obs_b, reward_b, evals_b) = rollout(7), rollout(8)
    assert np.abs(obs_a - obs_b).max() > 1e-3
    assert reward_a != reward_b or evals_a != evals_b


def test_paper_reward_on_hand_computed_values():
    # -3000 log10(1e-8 / 1e-10) / (8^3 * 2) + 4 / |log10 0.01| = -5.859375 + 2
    assert paper_reward(1e-8, 1e-2, 2) == pytest.approx(-3.859375, rel=1e-12)
    # dE below 1e-10 makes the first term positive: -3000 * (-2) / (12^3 * 1) + 4 / 4
    assert paper_reward(1e-12, 1e-4, 1) == pytest.approx(6000.0 / 1728.0 + 1.0, rel=1e-12)
    assert paper_reward(1e-3, 1e-1, 0) == 0.0


def test_cost_reward_telescopes_to_the_final_tradeoff():
    errors = [0.0, 1e-12, 3e-11, 2e-11, 5e-9]
    costs = [1, 120, 300, 900, 1500]
    total = sum(cost_reward(errors[i], errors[i + 1], costs[i], costs[i + 1], 2.0) for i in range(4))
    assert total == pytest.approx(-(math.log10(5e-9) - math.log10(1e-16)) - 2.0 * math.log10(1500.0), rel=1e-12)


def test_paper_initial_conditions():
    system = ic.saz_ulibarrena_2025(np.random.default_rng(3))
    assert np.allclose(system.masses, 1.0)
    position, velocity = system.centre_of_mass()
    assert np.abs(position).max() < 1e-12 and np.abs(velocity).max() < 1e-15
    # Relative geometry: body 1 - body 0 in [5, 20] x [0, 10] au, body 2 - body 0 in [-10, 0] x [5, 20].
    d1 = system.positions[1] - system.positions[0]
    d2 = system.positions[2] - system.positions[0]
    assert 5 <= d1[0] <= 20 and 0 <= d1[1] <= 10 and -10 <= d2[0] <= 0 and 5 <= d2[1] <= 20
    # 10 km/s relative speeds: about 0.3357 N-body units (29.78 km/s), planar.
    assert np.linalg.norm(system.velocities[0] - system.velocities[2]) == pytest.approx(10.0 / 29.7847, rel=1e-4)
    assert np.all(system.positions[:, 2] == 0.0) and np.all(system.velocities[:, 2] == 0.0)
    assert pytest.approx(2 * np.pi, rel=1e-4) == ic.YEAR


def test_step_integrates_the_interval_and_counts_cost():
    env = ThreeBodyEnv()
    env.reset(seed=0)
    cheap = env.step(9)[4]
    assert env.simulation.t == pytest.approx(0.1 * ic.YEAR)
    expensive = env.step(0)[4]
    assert expensive["force_evals"] > 50 * cheap["force_evals"] > 0
    assert expensive["parameter"] == pytest.approx(1e-4) and cheap["parameter"] == pytest.approx(0.1)
    assert env.episode_wall_time > 0.0


def test_continuous_actions_map_to_the_log_range():
    env = ThreeBodyEnv(action="continuous")
    assert env.parameter_of(np.array([-1.0])) == pytest.approx(1e-4)
    assert env.parameter_of(np.array([1.0])) == pytest.approx(1e-1)
    assert env.parameter_of(np.array([0.0])) == pytest.approx(10**-2.5)


def test_episode_ends_on_energy_error_and_on_length():
    env = ThreeBodyEnv(max_energy_error=1e-15, initial_conditions="pythagorean")
    env.reset(seed=0)
    _, _, terminated, truncated, _ = env.step(9)
    assert terminated and not truncated
    env = ThreeBodyEnv(episode_steps=3)
    env.reset(seed=0)
    flags = [env.step(5)[2:4] for _ in range(3)]
    assert flags == [(False, False), (False, False), (False, True)]


@pytest.mark.parametrize(
    "options, text",
    [
        ({"parameters": []}, "parameters"),
        ({"integrator": "euler"}, "integrator"),
        ({"parameters": [0.1, -0.2]}, "parameters.1"),
        ({"parameters": [0.1, 0.1]}, "distinct"),
        ({"observation": "pixels"}, "observation"),
    ],
)
def test_bad_configuration(options, text):
    with pytest.raises(ValidationError, match=text):
        ThreeBodyEnv(**options)


def test_fixed_step_parameter():
    """parameter: dt makes the actions fixed steps: an interval of 0.1 yr at dt = 0.01 takes ceil(0.628 / 0.01) steps."""
    env = ThreeBodyEnv(parameter="dt", parameters=[0.01, 0.1])
    env.reset(seed=0)
    info = env.step(0)[4]
    assert info["force_evals"] == math.ceil(0.1 * ic.YEAR / 0.01)
    assert env.simulation.stepper.parameter_name == "dt"
    with pytest.raises(ValidationError, match="integrator 'ias15' takes tol or dt, not eta"):
        EnvConfig(integrator="ias15", parameter="eta")
