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
from nbody.initial_conditions import saz_ulibarrena_2025
from nbody.state import System
from rl_agents.envs import TARGET_ENV_ID
from rl_agents.envs.target import TargetAccuracyEnv, breaks_target, system_scales, target_reward, verdict_potential
from rl_agents.envs.target_config import EVALUATION_COST, TargetConfig

# default choices: 0-2 IAS15 tol 1e-7/1e-9/1e-11, 3-4 archain tol 1e-12/1e-14, 5 Hermite eta 4e-3; 6-11 the same as redos
IAS15_LOOSE, IAS15_TIGHT, ARCHAIN, HERMITE = 0, 2, 3, 5
REDO = 6


@pytest.mark.parametrize("options", [{}, {"redo": False, "target": (1e-8, 1e-8)}, {"initial_conditions": "random"}, {"features": "scaled"}])
def test_env_passes_both_checkers(options):
    env = gym.make(TARGET_ENV_ID, **options)
    gym_check_env(env.unwrapped, skip_render_check=True)
    sb3_check_env(env.unwrapped, warn=False)
    assert env.observation_space.shape == (12 if options.get("features") == "scaled" else 11,)
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
    config = TargetConfig(success_reward=2.0, cost_weight=1.5, reference_cost=10.0, episode_intervals=20)  # a run: 200

    def reward(cost_before, cost_after, error_before, error_after, ended=False, target=1e-10):
        return float(target_reward(cost_before, cost_after, error_before, error_after, ended, target, 10.0, config))

    assert reward(10.0, 110.0, 1e-12, 1e-12) == pytest.approx(-0.75, rel=1e-12)  # -1.5 * 100 / 200
    assert reward(10.0, 10.0, 1e-12, 1e-8) == pytest.approx(-4.0 - 2.0, rel=1e-12)  # crosses the target by 2 decades
    assert reward(10.0, 10.0, 1e-8, 1e-11) == pytest.approx(6.0, rel=1e-12)  # a redo back below it earns it back
    assert reward(10.0, 10.0, 1e-9, 1e-8) == pytest.approx(-1.0, rel=1e-12)  # one decade further off
    assert reward(10.0, 50.0, 1e-12, 1e-11, ended=True) == pytest.approx(-0.3 + 2.0, rel=1e-12)  # met at the end
    assert reward(10.0, 10.0, 1e-12, math.inf, ended=True) == pytest.approx(-4.0 - 13.0 + 2.0, rel=1e-12)  # broke down: 1e3
    assert verdict_potential(0.0, 1e-10, config) == 0.0 and verdict_potential(1e-10, 1e-10, config) == 0.0


def test_an_episode_returns_minus_its_cost_plus_the_verdict():
    """Over a whole episode the rewards telescope: -cost_weight * (total cost - start-up cost) / (reference * intervals)
    and +success_reward if the final error is at most eps, else -success_reward - log10(dE / eps)."""
    for target, met in ((1e-6, True), (1e-16, False)):
        env = TargetAccuracyEnv(episode_intervals=4, target=(target, target))
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
        final = infos[-1]["energy_error"]
        assert infos[-1]["met"] == met == (final <= target)
        verdict = 2.0 if met else -2.0 - math.log10(final / target)
        cost = -(infos[-1]["cost"] - start_cost) / (45.0 * 4)
        assert sum(rewards) == pytest.approx(cost + verdict, rel=1e-12)


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
    assert EVALUATION_COST["archain"] != EVALUATION_COST["ias15"] and env.cost != pytest.approx(1 + evals, rel=1e-6)


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
        ({"repair": {"integrator": "archain", "value": 1e-13}}, "repair must be one of choices, got archain tol=1e-13"),
        ({"initial_conditions": ["paper", "random_3d"], "reference_cost": {"paper": 45.0}}, "reference_cost has no value for random_3d"),
        ({"initial_conditions": []}, "at least 1"),
        ({"reference_cost": {"paper": -1.0}}, "greater than 0"),
    ],
)
def test_bad_configuration(options, text):
    with pytest.raises(ValidationError, match=text):
        TargetConfig(**options)


def test_system_scales_on_a_hand_computed_system():
    # three unit masses, E0 = -1.5: R = 3 / 1.5 = 2, V = sqrt(3 / 2), T = R / V
    np.testing.assert_allclose(system_scales(np.ones(3), -1.5), np.log10([2.0, math.sqrt(1.5), 2.0 / math.sqrt(1.5)]), rtol=1e-14)
    batch = system_scales(np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]]), np.array([-11.0, -3.0]))  # 2 + 3 + 6 = 11: R = 1
    np.testing.assert_allclose(batch, np.log10([[1.0, math.sqrt(6.0), 1.0 / math.sqrt(6.0)], [1.0, math.sqrt(3.0), 1.0 / math.sqrt(3.0)]]))


def _scaled_system(system, length):
    return System(system.masses, system.positions * length, system.velocities / math.sqrt(length), system.softening * length)


@pytest.mark.parametrize("length", [1e-3, 40.0])
def test_scaled_features_do_not_see_a_change_of_units(length):
    """x -> l x, v -> v / sqrt(l), t -> l^1.5 t (the interval too) is the same motion: with ``features="scaled"`` the
    agent sees the same bodies at every interval (round-off apart); with ``absolute`` it does not."""
    system = saz_ulibarrena_2025(3)
    interval = TargetConfig().interval
    seen = {}
    for features in ("scaled", "absolute"):
        for scale in (1.0, length):
            env = TargetAccuracyEnv(features=features, interval=interval * scale**1.5, episode_intervals=5)
            observation, _ = env.reset(seed=0, options={"system": _scaled_system(system, scale), "target": 1e-10})
            trace = [observation]
            for action in (IAS15_TIGHT, ARCHAIN, ARCHAIN):
                trace.append(env.step(action)[0])
            seen[features, scale] = np.array(trace)[:, 3:-1]  # the bodies (not the margin, target, time left, jump)
    assert seen["scaled", 1.0].shape == (4, 8) and seen["absolute", 1.0].shape == (4, 7)
    np.testing.assert_allclose(seen["scaled", length], seen["scaled", 1.0], atol=1e-5)
    assert np.abs(seen["absolute", length][:, :3] - seen["absolute", 1.0][:, :3] - math.log10(length)).max() < 1e-5  # in units
    assert seen["scaled", 1.0][0, -1] == pytest.approx(
        math.log10(interval) - system_scales(system.masses, energy(system.masses, system.positions, system.velocities))[2]
    )


def test_the_repair_is_the_redo_a_policy_would_make_itself():
    """With ``repair``, IAS15 1e-7 on every interval ends where the plain environment ends when the policy redoes,
    with archain 1e-12, each interval that breaks the target: same error, same cost; and below the target where
    IAS15 1e-7 alone ends at 5e-6 (seed 8)."""
    eps, careful = 1e-8, {"integrator": "archain", "value": 1e-12}
    plain, repairing = TargetAccuracyEnv(episode_intervals=300), TargetAccuracyEnv(episode_intervals=300, repair=careful)
    redo_careful = len(plain.choices) + repairing.config.repair_index

    def run(env, repair_by_hand):
        observation, info = env.reset(seed=8, options={"target": eps})
        done, redos = False, 0
        while not done:
            broken = info["intervals"] > 0 and breaks_target(info["energy_error"], 10.0 ** observation[10], eps) and not info["redo"]
            action = redo_careful if repair_by_hand and broken else 0
            redos += action == redo_careful
            observation, _, terminated, truncated, info = env.step(action)
            done = terminated or truncated
        return info, redos

    by_hand, redone = run(plain, True)
    built_in, _ = run(repairing, False)
    alone, _ = run(plain, False)
    assert redone >= 1 and repairing.redos == redone
    assert built_in["energy_error"] == by_hand["energy_error"] <= eps < alone["energy_error"]
    assert built_in["cost"] == pytest.approx(by_hand["cost"], rel=1e-12) and built_in["cost"] > alone["cost"]


def test_a_mixture_draws_each_family_and_prices_each_episode_by_its_own_reference():
    """Episodes of a mixture come from every family (told apart by the systems' size: unit-size random systems
    against the paper's au-scale ones), and the cost part of an episode's reward is in its family's reference cost."""
    references = {"paper": 45.0, "random_3d": 900.0}
    env = TargetAccuracyEnv(initial_conditions=["paper", "random_3d"], reference_cost=references, episode_intervals=3)
    seen = {}
    for seed in range(40):
        env.reset(seed=seed)
        family = "random_3d" if np.abs(env.simulation.x).max() < 2.0 else "paper"
        cost_before = env.cost
        _, reward, *_ = env.step(IAS15_LOOSE)
        error = env.energy_error()
        shaped = verdict_potential(error, env.target, env.config) - verdict_potential(0.0, env.target, env.config)
        assert reward == pytest.approx(-(env.cost - cost_before) / (references[family] * 3) + shaped, rel=1e-9, abs=1e-12)
        seen[family] = seen.get(family, 0) + 1
    assert seen["paper"] >= 10 and seen["random_3d"] >= 10
    one = TargetAccuracyEnv(initial_conditions=["paper"])  # a one-family list draws as the family alone, seed for seed
    alone = TargetAccuracyEnv(initial_conditions="paper")
    np.testing.assert_array_equal(one.reset(seed=4)[0], alone.reset(seed=4)[0])
