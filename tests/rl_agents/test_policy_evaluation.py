"""Dominance and the below-the-front test on hand-made fronts."""

from rl_agents.policy_evaluation import front_position

FRONT = [(1e-4, 1e3), (1e-6, 1e4), (1e-8, 1e5)]  # log-log straight line: error = 1e-4 (cost / 1e3)^-2


def test_dominated_point():
    assert front_position((1e-5, 2e4), FRONT) == (True, False)  # (1e-6, 1e4) is better on both axes


def test_point_below_the_front():
    # At cost 10^3.5 the line gives 1e-5; 1e-6 is below it and nobody dominates it.
    assert front_position((1e-6, 10**3.5), FRONT) == (False, True)


def test_point_above_the_front_not_dominated():
    assert front_position((3e-5, 10**3.5), FRONT) == (False, False)


def test_point_outside_the_bracket():
    assert front_position((1e-9, 5e5), FRONT) == (False, False)
    assert front_position((1e-3, 5e2), FRONT) == (False, False)
