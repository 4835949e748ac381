"""Judge policies on the target-accuracy task (``rl_target_eval`` case): every fixed choice, the calibrated fixed
choice, the hand rules with thresholds tuned on the calibration seeds, and an agent, per target ``eps`` on held-out
seeds; the verdicts (:mod:`rl_agents.target_verdict`), the table in the log, ``result.h5`` and the picture."""

from __future__ import annotations

from typing import Any

import numpy as np

from adaptsim.cases import RunContext
from adaptsim.errors import CaseError
from adaptsim.progress import log, track
from rl_agents.envs.target import TargetAccuracyEnv
from rl_agents.envs.target_config import TargetConfig
from rl_agents.hand_rules import FixedChoice, RepairRule, RuleA, RuleB
from rl_agents.saved_agents import AgentFileError, load_saved, read_agent
from rl_agents.target_case import RLTargetEvalCase
from rl_agents.target_evaluation import Outcomes, Policy, cost_ci, run_policy, success_ci
from rl_agents.target_plots import plot_success_against_cost
from rl_agents.target_verdict import calibrated_choice, compare, tuned_choice

LEVELS = (0.95, 0.99)
#: The roles ``beats_hand_rules`` asks the agent to beat, all of them.
HAND_RULES = ("rule A", "rule B", "repair rule")
#: The cheapest fixed choice meeting 95 % on the held-out seeds themselves (else the most successful one).
HINDSIGHT = "best fixed in hindsight"


class AgentPolicy:
    """A trained agent's deterministic actions."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def reset(self, n_envs: int) -> None:
        """Nothing to forget (the agent is a function of the observation)."""

    def __call__(self, observations: np.ndarray, infos: dict[str, Any]) -> np.ndarray:
        actions, _ = self.model.predict(observations, deterministic=True)
        return np.asarray(actions)


def _statistics(outcome: Outcomes, eps: float, rng: np.random.Generator) -> dict[str, Any]:
    """Success with its interval, mean cost with its interval, the error distribution and the runs that broke down."""
    rate, low, high = success_ci(outcome, eps, rng)
    cost, cost_low, cost_high = cost_ci(outcome, rng)
    finite = np.where(np.isfinite(outcome.errors), outcome.errors, 1e3)  # a breakdown as the worst error
    median, p95, p99 = np.percentile(finite, [50, 95, 99])
    return {
        "success": rate,
        "success_ci": np.array([low, high]),
        "mean_cost": cost,
        "mean_cost_ci": np.array([cost_low, cost_high]),
        "error_median_p95_p99": np.array([median, p95, p99]),
        "broke_down": int(np.isinf(outcome.errors).sum()),
    }


def _run_all(policies: dict[str, Policy], config: TargetConfig, seeds: range, what: str) -> dict[str, Outcomes]:
    return {label: run_policy(config, policy, seeds) for label, policy in track(list(policies.items()), what)}


def run(case: RLTargetEvalCase, ctx: RunContext) -> None:
    """Run every policy, judge per target, write ``result.h5`` and ``success_vs_cost.png``."""
    config = case.env
    # The baselines as a user runs them: the rules read distances in the case's units; no built-in repair (the repair
    # rule is the hand-made one).
    baseline = config.model_copy(update={"features": "absolute", "repair": None})
    calibration = range(case.calibration_seeds)
    held_out = range(case.seed_start, case.seed_start + case.n_seeds)
    fixed: dict[str, Policy] = {p.label: p for p in (FixedChoice(baseline, c.integrator, c.value) for c in config.choices)}
    rules_a: dict[str, Policy] = {f"rule A {d:g}": RuleA(baseline, distance=d) for d in case.rule_a_distances}
    rules_b: dict[str, Policy] = {f"rule B {j:g}": RuleB(baseline, jump=j) for j in case.rule_b_jumps} if config.redo else {}
    tuned_on = _run_all(fixed | rules_a | rules_b, baseline, calibration, "calibration seeds")
    judged = _run_all(fixed | rules_a | rules_b, baseline, held_out, "held-out seeds")
    repair_rules: dict[float, str] = {}
    if baseline.redo:  # (the repair rule reads the target: tuned and run per target)
        for eps in track(case.targets, "repair rule, per target"):
            repair_rules[eps], judged[repair_rules[eps]] = _tuned_repair_rule(case, baseline, eps, calibration, held_out)
    agent_outcomes: dict[float, Outcomes] = {}
    if case.model is not None:
        try:
            model = load_saved(read_agent(case.model), TargetAccuracyEnv(config))
        except AgentFileError as error:
            raise CaseError(str(error), source=str(case.model)) from None
        agent = AgentPolicy(model)
        for eps in track(case.targets, "agent, per target"):
            agent_outcomes[eps] = run_policy(config, agent, held_out, target=eps)

    rng = np.random.default_rng(case.seed)
    data: dict[str, Any] = {"held_out": {label: {"errors": o.errors, "costs": o.costs} for label, o in judged.items()}}
    attrs: dict[str, dict[str, Any]] = {}
    pictures: dict[float, dict[str, Outcomes]] = {}
    for eps in case.targets:
        group = f"tolerance/{eps:g}"
        calibrated = {level: calibrated_choice({k: tuned_on[k] for k in fixed}, eps, level) for level in LEVELS}
        roles = {f"calibrated {int(100 * level)} %": label for level, label in calibrated.items() if label is not None}
        roles["rule A"] = tuned_choice({k: tuned_on[k] for k in rules_a}, eps, LEVELS[0])
        if rules_b:
            roles["rule B"] = tuned_choice({k: tuned_on[k] for k in rules_b}, eps, LEVELS[0])
        if eps in repair_rules:
            roles["repair rule"] = repair_rules[eps]
        outcomes = {role: judged[label] for role, label in roles.items()}
        if eps in agent_outcomes:
            outcomes["agent"] = agent_outcomes[eps]
        roles[HINDSIGHT] = tuned_choice({k: judged[k] for k in fixed}, eps, LEVELS[0])  # (what no user can pick in advance)
        outcomes[HINDSIGHT] = judged[roles[HINDSIGHT]]
        summary: dict[str, Any] = {"eps": eps, **{f"{role} is": label for role, label in roles.items()}}
        for role, outcome in outcomes.items():
            summary |= {f"{role}: {key}": value for key, value in _statistics(outcome, eps, rng).items()}
        if "agent" in outcomes:
            agent_run = outcomes["agent"]
            for role, label in roles.items():
                comparison = compare(agent_run, judged[label], eps, rng)
                summary[f"agent vs {role}: cost_ratio"] = np.array(comparison.cost_ratio)
                summary[f"agent vs {role}: success_difference"] = np.array(comparison.success_difference)
                summary[_verdict_key(role)] = comparison.beats
            for level in LEVELS:  # (False when no fixed choice met the level on the calibration seeds)
                summary.setdefault(_verdict_key(f"calibrated {int(100 * level)} %"), False)
            summary["beats_hand_rules"] = all(summary[_verdict_key(role)] for role in HAND_RULES if role in roles)
            data.setdefault("agent", {})[f"{eps:g}"] = {"errors": agent_run.errors, "costs": agent_run.costs}
        attrs[group] = summary
        data.setdefault("tolerance", {})[f"{eps:g}"] = {}
        pictures[eps] = {
            **{label: judged[label] for label in fixed},
            **{role: o for role, o in outcomes.items() if "calibrated" not in role and role != HINDSIGHT},
        }
        _log_target(eps, outcomes, roles, summary)
    ctx.save_figure(plot_success_against_cost(pictures), "success_vs_cost.png")
    ctx.write_results(data, attrs=attrs)


def _tuned_repair_rule(
    case: RLTargetEvalCase, config: TargetConfig, eps: float, calibration: range, held_out: range
) -> tuple[str, Outcomes]:
    """The repair rule at ``eps`` with its distance (one of ``rule_a_distances``) tuned on the calibration seeds as
    rule A's is, and its outcomes on the held-out seeds (label ``repair rule <d> at <eps>``)."""
    rules = {f"repair rule {d:g} at {eps:g}": RepairRule(config, distance=d) for d in case.rule_a_distances}
    label = tuned_choice({label: run_policy(config, rule, calibration, target=eps) for label, rule in rules.items()}, eps, LEVELS[0])
    return label, run_policy(config, rules[label], held_out, target=eps)


def _verdict_key(role: str) -> str:
    """``beats_calibrated_95``, ``beats_rule_A``, ``beats_best_fixed_in_hindsight``, ... of a role."""
    return "beats_" + role.replace(" %", "").replace(" ", "_")


def _log_target(eps: float, outcomes: dict[str, Outcomes], roles: dict[str, str], summary: dict[str, Any]) -> None:
    lines = [f"eps {eps:g}:"]
    for role, outcome in outcomes.items():
        low, high = summary[f"{role}: success_ci"]
        cost_low, cost_high = summary[f"{role}: mean_cost_ci"]
        name = f"{role} ({roles[role]})" if role in roles else role
        lines.append(
            f"  {name}: success {summary[f'{role}: success']:.3f} ({low:.3f}-{high:.3f}), "
            f"mean cost {outcome.costs.mean():.0f} ({cost_low:.0f}-{cost_high:.0f})"
        )
    for role in roles:
        if f"agent vs {role}: cost_ratio" in summary:
            ratio, low, high = summary[f"agent vs {role}: cost_ratio"]
            difference, d_low, d_high = summary[f"agent vs {role}: success_difference"]
            lines.append(
                f"  agent vs {role}: cost ratio {ratio:.3f} ({low:.3f}-{high:.3f}), success {difference:+.3f} ({d_low:+.3f} to {d_high:+.3f})"
            )
    verdicts = {key: summary[key] for key in summary if key.startswith("beats_")}
    if verdicts:
        lines.append("  " + ", ".join(f"{key}={value}" for key, value in verdicts.items()))
    log("\n".join(lines))
