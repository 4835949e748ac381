"""The bar for a learned policy on the target-accuracy environment: every fixed choice, the calibrated fixed choice
and the hand switching rules, on held-out seeds, with bootstrap confidence intervals.

    python benchmarks/target_baselines.py [--train 100] [--test 200] [--intervals 300] [--plot target_baselines.png]

Paper initial conditions; seeds ``0 .. train-1`` calibrate, seeds ``10000 ..`` are held out. The *calibrated* fixed
choice at ``eps`` and level ``p`` is the cheapest fixed choice whose success rate on the training seeds is at
least ``p``; it is then run on the held-out seeds like every other policy. Per ``eps``: success rate (95 % CI) and
mean cost (weighted force evaluations) with its ratio to the calibrated choice at 95 % and at 99 % (paired 95 % CI,
empty where no fixed choice reaches the level on the training seeds); with
``--plot``, the picture of success against cost per ``eps`` (every policy, both intervals).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from rl_agents.envs.target_config import TargetConfig
from rl_agents.hand_rules import FixedChoice, RuleA, RuleB
from rl_agents.target_evaluation import Outcomes, cost_ratio_ci, run_policy, success_ci
from rl_agents.target_plots import plot_success_against_cost

TARGETS = (1e-6, 1e-8, 1e-10, 1e-12)
LEVELS = (0.95, 0.99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=100, help="calibration seeds")
    parser.add_argument("--test", type=int, default=200, help="held-out seeds")
    parser.add_argument("--intervals", type=int, default=300, help="intervals of 0.1 yr per run")
    parser.add_argument("--plot", type=Path, default=None, help="write the success/cost picture here (PNG)")
    args = parser.parse_args()
    config = TargetConfig(episode_intervals=args.intervals)
    train, test = range(args.train), range(10_000, 10_000 + args.test)
    fixed = [FixedChoice(config, choice.integrator, choice.value) for choice in config.choices]
    rules = [RuleA(config), RuleB(config)]
    calibration = {policy.label: run_policy(config, policy, train) for policy in fixed}
    held_out: dict[str, Outcomes] = {policy.label: run_policy(config, policy, test) for policy in [*fixed, *rules]}
    rng = np.random.default_rng(0)
    console = Console(width=160)
    console.print(
        f"{args.test} held-out seeds ({args.train} for calibration), {args.intervals} intervals of 0.1 yr, paper initial conditions"
    )
    for eps in TARGETS:
        calibrated = {}
        for level in LEVELS:
            meeting = [label for label, outcome in calibration.items() if outcome.success(eps).mean() >= level]
            if meeting:
                calibrated[level] = min(meeting, key=lambda label: calibration[label].costs.mean())
        references = {level: calibrated.get(level) for level in LEVELS}
        columns = [f"cost / calibrated {int(100 * level)} % ({name})" for level, name in references.items()]
        table = Table("policy", "success", "95 % CI", "mean cost", *columns, title=f"eps = {eps:g}")
        for label, outcome in held_out.items():
            rate, low, high = success_ci(outcome, eps, rng)
            ratios = [
                "" if name is None else "{:.2f} ({:.2f}-{:.2f})".format(*cost_ratio_ci(outcome, held_out[name], rng))
                for name in references.values()
            ]
            tags = [f"calibrated {int(100 * level)} %" for level, name in calibrated.items() if name == label]
            table.add_row(
                label + (f" ({', '.join(tags)})" if tags else ""),
                f"{rate:.3f}",
                f"{low:.3f}-{high:.3f}",
                f"{outcome.costs.mean():.0f}",
                *ratios,
            )
        console.print(table)
    if args.plot is not None:
        console.print(f"wrote {plot_success_against_cost(held_out, TARGETS, args.plot)}")


if __name__ == "__main__":
    main()
