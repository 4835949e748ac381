"""The rl_target_eval case: baselines and an agent judged per target; verdicts that follow from the data."""

import subprocess

import numpy as np
import pytest
from stable_baselines3 import PPO

from adaptsim.cases import load_case
from adaptsim.errors import CaseError
from adaptsim.results import load_results
from rl_agents.envs.sb3_vector import SB3VectorAdapter
from rl_agents.envs.target_config import TargetConfig
from rl_agents.envs.target_vector import TargetAccuracyVectorEnv
from rl_agents.policy_options import PolicyOptions, policy_kwargs
from rl_agents.saved_agents import AgentRecipe, describe_space, write_agent
from tests import processes

SMALL = {"calibration_seeds": 6, "seed_start": 100, "n_seeds": 6, "rule_a_distances": [2.0], "rule_b_jumps": [1e-10]}


def small_case(tmp_path, **fields):
    given = {"env": "{episode_intervals: 12}", "targets": "[1.0e-8, 1.0e-12]"} | SMALL | fields
    lines = ["kind: rl_target_eval", *[f"{key}: {value}" for key, value in given.items()]]
    path = tmp_path / "case.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def tiny_agent(path, features="absolute"):
    """A PPO agent after a few hundred steps on the target environment (what matters here is that it acts)."""
    env = SB3VectorAdapter(TargetAccuracyVectorEnv(4, TargetConfig(episode_intervals=12, features=features)))
    model = PPO("MlpPolicy", env, n_steps=32, batch_size=64, n_epochs=1, seed=0, device="cpu", policy_kwargs=policy_kwargs(PolicyOptions()))
    model.learn(128)
    recipe = AgentRecipe("PPO", PolicyOptions(), {}, describe_space(env.observation_space), describe_space(env.action_space))
    return write_agent(model, path, recipe)


def run(case, out):
    with processes.spawned(["adaptsim", "run", str(case), "--out", str(out)]) as process:
        stdout, stderr = processes.finish(process, 280)
    assert process.returncode == 0, stderr
    return load_results(out / "result.h5"), stdout + stderr


@pytest.mark.slow
def test_an_agent_is_judged_per_target_and_the_verdicts_follow_from_the_statistics(tmp_path):
    agent = tiny_agent(tmp_path / "agent.zip")
    results, output = run(small_case(tmp_path, model=str(agent)), tmp_path / "out")
    assert (tmp_path / "out" / "success_vs_cost.png").stat().st_size > 10_000
    for eps in ("1e-08", "1e-12"):
        summary = results.attrs[f"tolerance/{eps}"]
        assert summary["eps"] == float(eps)
        assert {"beats_calibrated_95", "beats_calibrated_99", "beats_hand_rules"} <= set(summary)
        for role in ("rule A", "rule B", "repair rule", "agent"):
            low, high = summary[f"{role}: success_ci"]
            assert low <= summary[f"{role}: success"] <= high and low >= 0.0 and high <= 1.0
            assert summary[f"{role}: broke_down"] >= 0 and len(summary[f"{role}: error_median_p95_p99"]) == 3
        errors, costs = results["agent"][eps]["errors"], results["agent"][eps]["costs"]
        assert summary["agent: success"] == pytest.approx(np.mean(errors <= float(eps)))
        assert summary["agent: mean_cost"] == pytest.approx(costs.mean())
        for level in ("95", "99"):
            baseline = summary.get(f"calibrated {level} % is")
            if summary[f"beats_calibrated_{level}"]:  # a win is at no more cost and at least the same success
                assert summary["agent: mean_cost"] <= summary[f"calibrated {level} %: mean_cost"]
                assert summary["agent: success"] >= summary[f"calibrated {level} %: success"] or baseline is None
        for role, key in (
            ("rule A", "beats_rule_A"),
            ("rule B", "beats_rule_B"),
            ("repair rule", "beats_repair_rule"),
            ("best fixed in hindsight", "beats_best_fixed_in_hindsight"),
        ):
            ratio, _, ratio_high = summary[f"agent vs {role}: cost_ratio"]
            difference, difference_low, _ = summary[f"agent vs {role}: success_difference"]
            assert ratio == pytest.approx(summary["agent: mean_cost"] / summary[f"{role}: mean_cost"])
            assert difference == pytest.approx(summary["agent: success"] - summary[f"{role}: success"])
            assert summary[key] == ((difference >= 0 and ratio_high < 1) or (difference_low > 0 and ratio <= 1))
        rules = ("rule A", "rule B", "repair rule")
        assert summary["beats_hand_rules"] == all(summary[f"beats_{rule.replace(' ', '_')}"] for rule in rules)
        if summary["beats_hand_rules"]:
            assert all(summary["agent: mean_cost"] <= summary[f"{rule}: mean_cost"] for rule in rules)
    assert "eps 1e-12:" in output and "beats_hand_rules=" in output


def test_the_baselines_alone_match_their_own_runs(tmp_path):
    results, _ = run(small_case(tmp_path), tmp_path / "out")
    summary = results.attrs["tolerance/1e-08"]
    assert "agent: success" not in summary and "beats_hand_rules" not in summary
    fixed = results["held_out"]
    label = summary["rule B is"]
    assert label == "rule B 1e-10" and summary["rule B: mean_cost"] == pytest.approx(fixed[label]["costs"].mean())
    repair = summary["repair rule is"]  # (it reads the target: run at each one)
    assert repair == "repair rule 2 at 1e-08" and set(fixed) >= {repair, "repair rule 2 at 1e-12"}
    assert summary["repair rule: success"] == pytest.approx(np.mean(fixed[repair]["errors"] <= 1e-8))
    for level in ("95", "99"):
        name = summary.get(f"calibrated {level} % is")
        if name is not None:
            assert summary[f"calibrated {level} %: success"] == pytest.approx(np.mean(fixed[name]["errors"] <= 1e-8))
    hindsight = summary["best fixed in hindsight is"]  # the cheapest fixed choice meeting 95 % on the held-out seeds
    successes = {label: np.mean(fixed[label]["errors"] <= 1e-8) for label in fixed if not label.startswith(("rule", "repair"))}
    meeting = [label for label, rate in successes.items() if rate >= 0.95]
    if meeting:
        assert hindsight == min(meeting, key=lambda label: fixed[label]["costs"].mean())
    else:
        assert successes[hindsight] == max(successes.values())
    assert summary["best fixed in hindsight: mean_cost"] == pytest.approx(fixed[hindsight]["costs"].mean())


@pytest.mark.parametrize(
    "fields, text",
    [
        ({"seed_start": 3}, "seed_start 3 overlaps the calibration seeds 0 .. 5"),
        ({"targets": "[1.0e-8, 2.0]"}, "every target must be at most 1"),
        ({"env": "{choices: [{integrator: ias15, value: 1.0e-7}]}"}, "env.choices needs archain 1e-14 for the hand rules"),
        ({"model": "missing.zip"}, "file 'missing.zip' does not exist"),
    ],
)
def test_bad_cases_are_refused_in_one_line(tmp_path, fields, text):
    with pytest.raises(CaseError, match=text.replace(".", r"\.").replace("[", r"\[")):
        load_case(small_case(tmp_path, **fields))


def test_an_agent_of_another_environment_is_refused(tmp_path):
    shipped = "rl_agents/trained/dqn_hermite_collision.zip"
    with pytest.raises(CaseError, match="expects observations of shape"):
        load_case(small_case(tmp_path, model=shipped))
    assert (
        subprocess.run(["adaptsim", "validate", str(small_case(tmp_path, model=shipped))], capture_output=True, timeout=120).returncode == 2
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "env, features",
    [
        ("{episode_intervals: 12, features: scaled}", "scaled"),
        ("{episode_intervals: 12, repair: {integrator: archain, value: 1.0e-14}}", "absolute"),
    ],
    ids=["scaled", "repair"],
)
def test_an_agent_with_scaled_features_or_the_repair_is_judged_against_the_same_baselines(tmp_path, env, features):
    """The agent sees scaled features, or acts with the environment's repair; the fixed choices and the rules (which
    read distances in the case's units, and repair nothing unless they do it themselves) run as they do for an agent
    in the plain environment."""
    agent = tiny_agent(tmp_path / "agent.zip", features=features)
    judged, _ = run(small_case(tmp_path, env=env, model=str(agent)), tmp_path / "judged")
    plain, _ = run(small_case(tmp_path, targets="[1.0e-8]"), tmp_path / "plain")
    for role in ("calibrated 95 %", "rule A", "rule B", "repair rule"):
        assert judged.attrs["tolerance/1e-08"][f"{role}: mean_cost"] == plain.attrs["tolerance/1e-08"][f"{role}: mean_cost"]
    assert "agent: success" in judged.attrs["tolerance/1e-08"]
