"""The runner of the ``rl_target_train`` kind: train in the native vector environment, then write ``model.zip``
(observation statistics folded in), the learning curve and ``result.h5``."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
from stable_baselines3.common.vec_env import VecEnv, VecMonitor

from adaptsim.cases import RunContext
from rl_agents.callbacks import TargetEvaluationCallback
from rl_agents.envs.sb3_vector import SB3VectorAdapter
from rl_agents.envs.target_vector import TargetAccuracyVectorEnv
from rl_agents.hand_rules import RepairRule
from rl_agents.kickstart import kickstart
from rl_agents.target_train_case import RLTargetTrainCase
from rl_agents.train import train_in_run, write_training_results


def run(case: RLTargetTrainCase, ctx: RunContext) -> None:
    """Train, then write ``model.zip``, ``learning_curve.png`` and the HDF5 result."""

    def make_env() -> VecEnv:
        env = VecMonitor(SB3VectorAdapter(TargetAccuracyVectorEnv(case.n_envs, case.env), final_keys=("met", "cost")))
        env.seed(case.seed)
        return env

    start = case.kickstart

    def prepare(model: Any) -> dict[str, float]:
        return kickstart(model, RepairRule(case.env), start.steps, start.epochs, start.batch_size)

    evaluation = TargetEvaluationCallback(case.env, case.evaluation)
    history, facts = train_in_run(case, ctx, make_env, evaluation, prepare if start.steps else None)
    figure, axis = plt.subplots(figsize=(6.5, 4))
    twin = axis.twinx()
    for index, eps in enumerate(case.evaluation.targets):
        color = f"C{index}"
        axis.plot(history["timesteps"], history[f"success_{eps:g}"], "o-", color=color, label=f"success at eps {eps:g}")
        twin.plot(history["timesteps"], history[f"cost_{eps:g}"], "s--", color=color, alpha=0.5)
    twin.set_ylabel("mean cost per run (dashed)")
    axis.set_xlabel("training steps")
    axis.set_ylabel(f"success on {case.evaluation.n_seeds} held-out seeds")
    axis.set_ylim(-0.02, 1.02)
    axis.legend(loc="lower right", fontsize=8)
    axis.set_title(f"{case.algorithm} on adaptsim/ThreeBodyTarget-v0")
    ctx.save_figure(figure, "learning_curve.png")
    write_training_results(ctx, case, case.env, history, facts)
