"""The hand switching rules pick what they say, from the observation alone."""

import math

import numpy as np
import pytest

from rl_agents.envs.target_config import TargetConfig
from rl_agents.hand_rules import FixedChoice, RepairRule, RuleA, RuleB, choice_index
from rl_agents.target_evaluation import run_policy

CONFIG = TargetConfig()
N = len(CONFIG.choices)


def observation(closest: float = 10.0, jump: float = 1e-16, eps: float = 1e-8, error: float = 1e-16) -> np.ndarray:
    """One episode's observation, as a batch of one (``error``: the relative energy error so far)."""
    values = np.zeros((1, 11), dtype=np.float32)
    values[0, :2] = [math.log10(eps) - math.log10(error), math.log10(eps)]
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


def test_the_repair_rule_is_cheap_at_loose_targets_rule_a_at_tight_ones_and_redoes_what_breaks_the_target():
    rule = RepairRule(CONFIG)
    cheap, close, far = (choice_index(CONFIG, *choice) for choice in (("ias15", 1e-7), ("archain", 1e-14), ("ias15", 1e-9)))
    loose_repair, tight_repair = N + choice_index(CONFIG, "archain", 1e-12), N + close
    rule.reset(1)
    assert rule(observation(closest=1.0, eps=1e-9), {}) == cheap  # loose: IAS15 1e-7 even near a close pair
    assert rule(observation(closest=1.0, eps=1e-11), {}) == close  # tight: rule A
    assert rule(observation(closest=3.0, eps=1e-11), {}) == far
    # The error went past the target with this interval's jump: redone once, with archain 1e-12 down to 1e-10.
    assert rule(observation(eps=1e-10, error=2e-10, jump=1.5e-10), {}) == loose_repair
    assert rule(observation(eps=1e-10, error=2e-10, jump=1.5e-10), {}) == far  # not the same interval twice
    assert rule(observation(eps=1e-12, error=2e-12, jump=1.5e-12), {}) == tight_repair
    # Past the target long ago (this interval added little), or a large jump that kept within it: nothing redone.
    assert rule(observation(closest=3.0, eps=1e-12, error=2e-12, jump=1e-14), {}) == far
    assert rule(observation(closest=3.0, eps=1e-12, error=5e-13, jump=4e-13), {}) == far
    with pytest.raises(ValueError, match="redo=True"):
        RepairRule(TargetConfig(redo=False))


def test_the_repair_rule_meets_the_target_where_its_forward_choice_misses_it():
    """Against the environment itself: where IAS15 1e-7 (at 1e-8) or rule A (at 1e-12) ends below the target the
    repair rule runs the same; where they end above it, it ends below it and pays for the redone intervals."""
    config = TargetConfig(episode_intervals=300)
    for eps, forward, seeds, missed in [
        (1e-8, FixedChoice(config, "ias15", 1e-7), [5, 8, 11, 15], [False, True, False, True]),  # 1e-13, 5e-6, 2e-10, 1.1e-8
        (1e-12, RuleA(config), [10001, 10060, 10067, 10118], [False, True, True, True]),  # 9e-14, 2.1e-12, 1.3e-12, 1.1e-12
    ]:
        plain, repaired = run_policy(config, forward, seeds), run_policy(config, RepairRule(config), seeds, target=eps)
        np.testing.assert_array_equal(plain.errors > eps, missed)
        assert np.all(repaired.errors <= eps)
        np.testing.assert_array_equal(repaired.errors[~plain.success(eps)] < plain.errors[~plain.success(eps)], True)
        np.testing.assert_array_equal(repaired.costs == plain.costs, ~np.array(missed))
        assert np.all(repaired.costs >= plain.costs)


@pytest.mark.parametrize("rule", [RuleA, RuleB, RepairRule])
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
