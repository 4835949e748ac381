"""The verdict of a candidate against a baseline: improvements outside their paired intervals."""

import numpy as np
import pytest

from rl_agents.target_evaluation import Outcomes
from rl_agents.target_verdict import calibrated_choice, compare, success_difference_ci, tuned_choice

RNG = np.random.default_rng(0)
ERRORS = np.array([1e-13, 1e-11, 1e-12, 1e-9] * 10)  # 75 % under 1e-10
COSTS = np.linspace(100.0, 200.0, 40)


def test_same_success_at_a_surely_lower_cost_beats_and_parity_does_not():
    baseline = Outcomes(ERRORS, COSTS)
    assert compare(Outcomes(ERRORS, 0.8 * COSTS), baseline, 1e-10, RNG).beats
    assert not compare(Outcomes(ERRORS, COSTS), baseline, 1e-10, RNG).beats  # parity
    assert not compare(Outcomes(ERRORS, 1.2 * COSTS), baseline, 1e-10, RNG).beats


def test_higher_success_counts_only_outside_its_interval_and_at_no_more_cost():
    baseline = Outcomes(ERRORS, COSTS)
    better = Outcomes(np.minimum(ERRORS, 1e-12), COSTS)  # every run under 1e-10
    assert success_difference_ci(better, baseline, 1e-10, RNG)[0] == pytest.approx(0.25)
    assert compare(better, baseline, 1e-10, RNG).beats
    assert not compare(Outcomes(better.errors, 1.01 * COSTS), baseline, 1e-10, RNG).beats  # more success, more cost
    one_more = ERRORS.copy()
    one_more[3] = 1e-12  # one run more of 40: not outside the interval
    assert not compare(Outcomes(one_more, COSTS), baseline, 1e-10, RNG).beats
    lower = ERRORS.copy()
    lower[0] = 1e-9  # one run less, at a much lower cost: does not meet the baseline's success
    assert not compare(Outcomes(lower, 0.5 * COSTS), baseline, 1e-10, RNG).beats


def test_the_calibrated_choice_is_the_cheapest_meeting_the_level():
    calibration = {
        "cheap": Outcomes(ERRORS, COSTS),  # 75 % at 1e-10
        "careful": Outcomes(np.full(40, 1e-13), 2 * COSTS),
        "wasteful": Outcomes(np.full(40, 1e-13), 3 * COSTS),
    }
    assert calibrated_choice(calibration, 1e-10, 0.95) == "careful"
    assert calibrated_choice(calibration, 1e-8, 0.95) == "cheap"
    assert calibrated_choice(calibration, 1e-14, 0.95) is None
    assert tuned_choice(calibration, 1e-14, 0.95) == "cheap"  # none meets it: the most successful, then the cheapest
