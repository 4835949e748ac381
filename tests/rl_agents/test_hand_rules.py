"""The hand switching rules pick what they say, from the observation alone."""

import math

import numpy as np
import pytest

from rl_agents.envs.target_config import TargetConfig
from rl_agents.hand_rules import FixedChoice, RuleA, RuleB, choice_index
from rl_agents.target_evaluation import run_policy

CONFIG = TargetConfig()
N = len(CONFIG.choices)


def observation(closest: float = 10.0, jump: float = 1e-16) -> np.ndarray:
    """One episode's observation, as a batch of one."""
    values = np.zeros((1, 11), dtype=np.float32)
    values[0, 3:6] = np.log10([closest, 5.0, 7.0])
    values[0, 10] = math.log10(jump)
    return values


def intervals(n: int) -> dict:
    return {"intervals": np.array([n])}


def test_choice_index_finds_the_choice_or_says_which_is_missing():
    assert CONFIG.choices[choice_index(CONFIG, "archain", 1e-14)].label == "archain tol=1e-14"
    with pytest.raises(ValueError, match="no choice ias15 1e-05"):
        choice_index(CONFIG, "ias15", 1e-5)


def test_rule_a_is_regularised_only_near_a_close_pair():
    rule = RuleA(CONFIG, distance=2.0)
    rule.reset(2)
    both = np.concatenate([observation(closest=1.9), observation(closest=2.1)])
    np.testing.assert_array_equal(rule(both, {}), [choice_index(CONFIG, "archain", 1e-14), choice_index(CONFIG, "ias15", 1e-9)])


def test_rule_b_redoes_a_jump_once_then_goes_on_cheaply():
    rule = RuleB(CONFIG, jump=1e-10)
    cheap, redo = choice_index(CONFIG, "ias15", 1e-7), N + choice_index(CONFIG, "archain", 1e-12)
    rule.reset(1)
    assert rule(observation(jump=1e-9), intervals(0)) == cheap  # nothing to redo before the first interval
    assert rule(observation(jump=1e-11), intervals(3)) == cheap
    assert rule(observation(jump=1e-9), intervals(3)) == redo
    assert rule(observation(jump=1e-9), intervals(3)) == cheap  # the redone interval is not redone again
    assert rule(observation(jump=1e-9), intervals(4)) == redo
    with pytest.raises(ValueError, match="redo=True"):
        RuleB(TargetConfig(redo=False))


@pytest.mark.parametrize("rule", [RuleA, RuleB])
def test_the_rules_refuse_the_scaled_layout(rule):
    with pytest.raises(ValueError, match="features='absolute'"):
        rule(TargetConfig(features="scaled"))


def test_rule_b_costs_what_fixed_ias15_costs_plus_its_redos():
    """Where no interval jumps, rule B is fixed IAS15 1e-7 exactly; where one does, it pays more and ends more accurate."""
    config = TargetConfig(episode_intervals=300)
    seeds = [5, 8, 11, 15]  # IAS15 1e-7 ends at 1e-13 on seed 5, at 5e-6, 2e-10 and 1e-8 on the others
    fixed, rule = run_policy(config, FixedChoice(config, "ias15", 1e-7), seeds), run_policy(config, RuleB(config), seeds)
    same = rule.costs == fixed.costs
    np.testing.assert_array_equal(same, [True, False, False, False])
    assert np.all(rule.costs >= fixed.costs)
    np.testing.assert_array_equal(rule.errors[same], fixed.errors[same])
    assert np.all(rule.errors[~same] < fixed.errors[~same])
