"""The target-accuracy environment: checkers, determinism, the reward, redo, switching integrators, the honest cost."""

import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from pydantic import ValidationError
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import rl_agents  # noqa: F401  registers the ids
from nbody.diagnostics import energy
from rl_agents.envs import TARGET_ENV_ID
from rl_agents.envs.target import OBSERVATION_SIZE, TargetAccuracyEnv, target_reward
from rl_agents.envs.target_config import EVALUATION_COST, TargetConfig

# default choices: 0-2 IAS15 tol 1e-7/1e-9/1e-11, 3-4 archain tol 1e-12/1e-14, 5 Hermite eta 4e-3; 6-11 the same as redos
IAS15_LOOSE, IAS15_TIGHT, ARCHAIN, HERMITE = 0, 2, 3, 5
REDO = 6


@pytest.mark.parametrize("options", [{}, {"redo": False, "target": (1e-8, 1e-8)}, {"initial_conditions": "random"}])
def test_env_passes_both_checkers(options):
    env = gym.make(TARGET_ENV_ID, **options)
    gym_check_env(env.unwrapped, skip_render_check=True)
    sb3_check_env(env.unwrapped, warn=False)
    assert env.observation_space.shape == (OBSERVATION_SIZE,)
    assert env.action_space.n == 6 * (1 if options.get("redo") is False else 2)


def _rollout(seed, actions, **options):
    env = TargetAccuracyEnv(**options)
    observation, info = env.reset(seed=seed)
    trace = [observation, info["target"]]
    for action in actions:
        observation, reward, terminated, truncated, info = env.step(action)
        trace += [observation, reward, info["cost"], info["energy_error"]]
    return env, trace


def test_determinism_with_a_seed_and_different_seeds_differ():
    actions = [IAS15_LOOSE, ARCHAIN, REDO + HERMITE, HERMITE, IAS15_TIGHT]
    (_, first), (_, second), (_, other) = _rollout(7, actions), _rollout(7, actions), _rollout(8, actions)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert first[1] != other[1]  # another target
    assert np.abs(first[0] - other[0]).max() > 1e-3  # other initial conditions


def test_reward_on_hand_computed_values():
    config = TargetConfig(success_reward=2.0, cost_weight=1.5)
    assert target_reward(10.0, 1000.0, None, 1e-10, config) == pytest.approx(-3.0, rel=1e-12)  # -1.5 * log10(100)
    assert target_reward(10.0, 100.0, 1e-12, 1e-10, config) == pytest.approx(-1.5 + 2.0, rel=1e-12)  # met
    assert target_reward(10.0, 100.0, 1e-8, 1e-10, config) == pytest.approx(-1.5 - 2.0 - 2.0, rel=1e-12)  # 2 decades off
    assert target_reward(10.0, 10.0, math.inf, 1e-10, config) == pytest.approx(-2.0 - 13.0, rel=1e-12)  # broke down: 1e3


def test_an_episode_returns_minus_log_cost_plus_the_verdict():
    """Over a whole episode the rewards telescope: -cost_weight * log10(total cost / start-up cost) +- success."""
    env = TargetAccuracyEnv(episode_intervals=4, target=(1e-6, 1e-6))
    env.reset(seed=3)
    start_cost = env.cost
    rewards, infos = [], []
    for action in [IAS15_LOOSE, REDO + IAS15_TIGHT, HERMITE, ARCHAIN, IAS15_LOOSE]:
        _, reward, terminated, truncated, info = env.step(action)
        rewards.append(reward)
        infos.append(info)
        if terminated or truncated:
            break
    assert truncated and infos[-1]["intervals"] == 4 and len(rewards) == 5  # the redo is not an interval
    assert infos[-1]["met"] and infos[-1]["energy_error"] <= 1e-6
    assert sum(rewards) == pytest.approx(-math.log10(infos[-1]["cost"] / start_cost) + 2.0, rel=1e-12)


def test_a_redo_restores_the_state_before_the_interval_exactly():
    """IAS15 for an interval, then redone with archain == archain for that interval, bit for bit; the redo pays for both."""
    redone, _ = _rollout(5, [IAS15_LOOSE, REDO + ARCHAIN])
    direct, _ = _rollout(5, [ARCHAIN])
    np.testing.assert_array_equal(redone.simulation.x, direct.simulation.x)
    np.testing.assert_array_equal(redone.simulation.v, direct.simulation.v)
    assert redone.simulation.t == direct.simulation.t and redone.intervals == direct.intervals == 1
    first_interval, _ = _rollout(5, [IAS15_LOOSE])
    assert redone.cost == pytest.approx(direct.cost + first_interval.cost - redone.config.evaluation_cost["ias15"], rel=1e-12)


def test_the_energy_error_is_measured_from_the_episode_start_across_integrators():
    env, _ = _rollout(11, [HERMITE, HERMITE, IAS15_TIGHT, ARCHAIN])
    system = env.simulation
    initial = TargetAccuracyEnv()
    initial.reset(seed=11)
    e0 = float(energy(initial.simulation.masses, initial.simulation.x, initial.simulation.v))
    expected = abs(float(energy(system.masses, system.x, system.v)) - e0) / abs(e0)
    assert env.energy_error() == expected and expected > 1e-13  # Hermite's error is kept after the switch


def test_the_cost_is_force_evaluations_weighted_per_integrator():
    env = TargetAccuracyEnv()
    env.reset(seed=2)
    env.step(ARCHAIN)  # start-up and one interval of archain
    evals = env.simulation.n_force_evals
    assert env.cost == pytest.approx(EVALUATION_COST["ias15"] * 1 + EVALUATION_COST["archain"] * evals, rel=1e-12)
    assert EVALUATION_COST["archain"] > 1.5 * EVALUATION_COST["ias15"]


def test_the_target_is_drawn_log_uniformly_or_given():
    env = TargetAccuracyEnv(target=(1e-12, 1e-6))
    targets = np.array([env.reset(seed=seed)[1]["target"] for seed in range(200)])
    assert targets.min() >= 1e-12 and targets.max() <= 1e-6
    assert abs(np.median(np.log10(targets)) + 9.0) < 0.5
    assert env.reset(seed=0, options={"target": 3e-9})[1]["target"] == 3e-9
    observation, _ = env.reset(seed=0, options={"target": 1e-8})
    assert observation[1] == pytest.approx(-8.0) and observation[0] == pytest.approx(-8.0 + 16.0)  # dE = 0: floored at 1e-16


@pytest.mark.parametrize(
    "options, text",
    [
        ({"target": (1e-6, 1e-8)}, "low <= high"),
        ({"choices": [{"integrator": "ias15", "parameter": "eta", "value": 0.01}]}, "takes tol or dt"),
        ({"choices": [{"integrator": "leapfrog", "value": 0.01}], "evaluation_cost": {"ias15": 1.0}}, "no value for leapfrog"),
        ({"choices": []}, "at least 1"),
    ],
)
def test_bad_configuration(options, text):
    with pytest.raises(ValidationError, match=text):
        TargetConfig(**options)
