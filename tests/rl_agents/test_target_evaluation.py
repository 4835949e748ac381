"""Outcomes of policies over seeds and their bootstrap intervals."""

import numpy as np
import pytest

from rl_agents.envs.target_config import TargetConfig
from rl_agents.hand_rules import FixedChoice
from rl_agents.target_evaluation import Outcomes, bootstrap_ci, cost_ci, cost_ratio_ci, run_policy, success_ci
from rl_agents.target_plots import plot_success_against_cost


def test_success_and_cost_ratio_with_their_intervals():
    rng = np.random.default_rng(0)
    outcomes = Outcomes(np.array([1e-12, 1e-9, 1e-11, np.inf]), np.array([10.0, 20.0, 30.0, 40.0]))
    np.testing.assert_array_equal(outcomes.success(1e-10), [True, False, True, False])
    rate, low, high = success_ci(outcomes, 1e-10, rng)
    assert rate == 0.5 and 0.0 <= low < 0.5 < high <= 1.0
    assert cost_ratio_ci(outcomes, outcomes, rng) == (1.0, 1.0, 1.0)  # paired: the same seeds for both
    doubled = Outcomes(outcomes.errors, 2.0 * outcomes.costs)
    assert cost_ratio_ci(doubled, outcomes, rng) == pytest.approx((2.0, 2.0, 2.0))
    assert bootstrap_ci(lambda index: 3.0, 5, rng) == (3.0, 3.0)
    mean, low, high = cost_ci(outcomes, rng)
    assert mean == 25.0 and 10.0 <= low < 25.0 < high <= 40.0


def test_a_run_that_breaks_down_counts_as_an_infinite_error():
    config = TargetConfig(episode_intervals=20, max_energy_error=1e-15)  # Hermite at eta 4e-3 passes 1e-15 at once
    outcomes = run_policy(config, FixedChoice(config, "hermite", 4e-3), [0, 1])
    assert np.all(np.isinf(outcomes.errors)) and np.all(outcomes.costs > 0)


def test_the_success_cost_picture_has_a_panel_per_target_and_a_point_per_policy():
    cheap = Outcomes(np.array([1e-9, 1e-7, 1e-11]), np.array([100.0, 120.0, 90.0]))
    careful = Outcomes(np.array([1e-13, 1e-12, 1e-14]), np.array([300.0, 320.0, 280.0]))
    figure = plot_success_against_cost({1e-8: {"cheap": cheap, "careful": careful}, 1e-12: {"cheap": cheap, "careful": careful}})
    axes = figure.axes
    assert [axis.get_title() for axis in axes] == ["target eps = 1e-08", "target eps = 1e-12"]
    centres = {tuple(np.round(line.get_xydata()[0], 6)) for line in axes[0].lines if len(line.get_xydata()) == 1}
    assert (round(310.0 / 3, 6), round(2 / 3, 6)) in centres and (300.0, 1.0) in centres  # (mean cost, success)
