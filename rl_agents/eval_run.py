"""Evaluate an agent against every fixed parameter (``rl_eval`` case): the accuracy/cost front, example
trajectories, and the same comparison on a second integrator (transfer)."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from adaptsim.cases import RunContext
from adaptsim.progress import log, track
from rl_agents.case import RLEvalCase
from rl_agents.envs.config import EnvConfig
from rl_agents.envs.three_body import ThreeBodyEnv
from rl_agents.policy_evaluation import Evaluation, agent_policy, evaluate_policy, fixed_policy, front_position, run_episode
from rl_agents.saved_agents import load_agent


def compare(config: EnvConfig, model: Any, seeds: range, steps: int) -> dict[str, Any]:
    """The agent and every fixed parameter on ``seeds``: points of the accuracy/cost front and the verdict."""

    fixed: list[Evaluation] = [
        evaluate_policy(config, fixed_policy(config, index), seeds, steps, label=f"{config.parameter_name}={value:.3g}")
        for index, value in track(list(enumerate(config.parameters)), "fixed parameters")
    ]
    agent = evaluate_policy(config, agent_policy(model), seeds, steps, label="agent")
    front = [(f.median_energy_error, f.mean_cost) for f in fixed]
    dominated, below = front_position((agent.median_energy_error, agent.mean_cost), front)
    return {"fixed": fixed, "agent": agent, "dominated": dominated, "below_front": below}


def _group(config: EnvConfig, comparison: dict[str, Any], n_seeds: int) -> tuple[dict[str, Any], dict[str, Any]]:
    fixed: list[Evaluation] = comparison["fixed"]
    agent: Evaluation = comparison["agent"]
    data = {
        "fixed_params": np.asarray(config.parameters),
        "fixed_median_energy_error": np.array([f.median_energy_error for f in fixed]),
        "fixed_mean_cost": np.array([f.mean_cost for f in fixed]),
        "fixed_mean_wall_time": np.array([f.wall_time.mean() for f in fixed]),
        "fixed_energy_error_quartiles": np.array([np.percentile(f.final_energy_error, [25, 75]) for f in fixed]),
        "agent_energy_error": agent.final_energy_error,
        "agent_cost": agent.force_evals,
    }
    summary = {
        "agent_median_energy_error": agent.median_energy_error,
        "agent_mean_cost": agent.mean_cost,
        "agent_mean_wall_time_s": float(agent.wall_time.mean()),
        "agent_energy_error_quartiles": np.percentile(agent.final_energy_error, [25, 75]),
        "n_seeds": n_seeds,
        "dominated": bool(comparison["dominated"]),
        "below_front": bool(comparison["below_front"]),
        "integrator": config.integrator,
    }
    return data, summary


def plot_front(axis: Any, config: EnvConfig, comparison: dict[str, Any], title: str) -> None:
    """The fixed-parameter front (with quartile bars) and the agent's point, log-log."""
    fixed: list[Evaluation] = comparison["fixed"]
    agent: Evaluation = comparison["agent"]
    costs = [f.mean_cost for f in fixed]
    medians = [f.median_energy_error for f in fixed]
    low = [m - np.percentile(f.final_energy_error, 25) for f, m in zip(fixed, medians, strict=True)]
    high = [np.percentile(f.final_energy_error, 75) - m for f, m in zip(fixed, medians, strict=True)]
    axis.errorbar(costs, medians, yerr=[low, high], fmt="o-", color="tab:blue", capsize=3, label=f"fixed {config.parameter_name}")
    for value, cost, median in zip(config.parameters, costs, medians, strict=True):
        axis.annotate(f"{value:.2g}", (cost, median), textcoords="offset points", xytext=(4, 4), fontsize=7)
    q25, q75 = np.percentile(agent.final_energy_error, [25, 75])
    axis.errorbar(
        [agent.mean_cost],
        [agent.median_energy_error],
        yerr=[[agent.median_energy_error - q25], [q75 - agent.median_energy_error]],
        fmt="*",
        color="tab:red",
        markersize=14,
        capsize=3,
        label="agent",
    )
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("mean force evaluations per run")
    axis.set_ylabel("median final relative energy error")
    verdict = "dominated" if comparison["dominated"] else ("below the front" if comparison["below_front"] else "not dominated")
    axis.set_title(f"{title}: agent {verdict}")
    axis.grid(True, which="major", alpha=0.3)
    axis.legend(fontsize="small")


def run(case: RLEvalCase, ctx: RunContext) -> None:
    """Evaluate, write the HDF5 result (front, summary, transfer) and the plots."""

    model = load_agent(case.model, case.env)
    seeds = range(case.seed_start, case.seed_start + case.n_seeds)
    main = compare(case.env, model, seeds, case.steps)
    data, summary = _group(case.env, main, case.n_seeds)
    attrs = {"summary": summary}
    data["summary"] = {}
    comparisons = [(case.env, main, f"{case.env.integrator} (trained)")]
    if case.transfer is not None:
        transfer_config = EnvConfig.model_validate(case.env.model_dump() | case.transfer.model_dump())
        transferred = compare(transfer_config, model, seeds, case.steps)
        transfer_data, transfer_summary = _group(transfer_config, transferred, case.n_seeds)
        data["transfer"] = transfer_data | {"summary": {}}
        attrs["transfer/summary"] = transfer_summary
        comparisons.append((transfer_config, transferred, f"{transfer_config.integrator} (transfer)"))
    for _, comparison, title in comparisons:
        agent = comparison["agent"]
        log(
            f"{title}: agent median energy error {agent.median_energy_error:.2e} at {agent.mean_cost:.0f} force evaluations; "
            f"dominated={comparison['dominated']}, below front={comparison['below_front']}"
        )

    figure, axes = plt.subplots(1, len(comparisons), figsize=(6.5 * len(comparisons), 4.8), squeeze=False)
    for axis, (config, comparison, title) in zip(axes[0], comparisons, strict=True):
        plot_front(axis, config, comparison, title)
    ctx.save_figure(figure, "front.png")

    if case.examples:
        env = ThreeBodyEnv(case.env.model_copy(update={"episode_steps": case.steps}))
        figure, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
        for seed in list(seeds)[: case.examples]:
            episode = run_episode(env, agent_policy(model), seed, case.steps)
            line = top.semilogy(episode.time, np.maximum(episode.energy_error, 1e-16), label=f"seed {seed}")[0]
            bottom.semilogy(episode.time, episode.parameter, drawstyle="steps-post", color=line.get_color())
        top.set_ylabel("relative energy error")
        bottom.set_ylabel(f"chosen {case.env.parameter_name}")
        bottom.set_xlabel("t (N-body units)")
        top.legend(fontsize="small")
        top.set_title("agent along example trajectories")
        ctx.save_figure(figure, "trajectories.png")
    ctx.write_results(data, attrs=attrs)
