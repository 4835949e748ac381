"""The runner of the ``rl_target_train`` kind: train in the native vector environment, then write ``model.zip``
(observation statistics folded in), the learning curve and ``result.h5``."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
from stable_baselines3.common.vec_env import VecMonitor

from adaptsim.cases import RunContext
from adaptsim.errors import CaseError, RunError
from adaptsim.progress import log
from rl_agents.callbacks import TargetEvaluationCallback
from rl_agents.envs.sb3_vector import SB3VectorAdapter
from rl_agents.envs.target_vector import TargetAccuracyVectorEnv
from rl_agents.target_train_case import RLTargetTrainCase
from rl_agents.train import MODEL_FILE, train


def run(case: RLTargetTrainCase, ctx: RunContext) -> None:
    """Train, then write ``model.zip``, ``learning_curve.png`` and the HDF5 result."""
    env = VecMonitor(SB3VectorAdapter(TargetAccuracyVectorEnv(case.n_envs, case.env), final_keys=("met", "cost")))
    env.seed(case.seed)
    try:
        model, history, facts = train(case, ctx.out_dir, env, TargetEvaluationCallback(case.env, case.evaluation))
    except CaseError:  # a checkpoint of another case
        raise
    except ValueError as error:  # SB3 rejecting a hyper-parameter value
        raise RunError(str(error)) from error
    log(f"trained {case.algorithm} for {facts['timesteps']} steps in {facts['train_wall_time_s']:.1f} s; model {ctx.out_dir / MODEL_FILE}")
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
    ctx.write_results(
        {key: np.asarray(value, dtype=float) for key, value in history.items()}
        | {"env_config": json.dumps(case.env.model_dump(mode="json")), "summary": {}},
        attrs={"summary": facts | {"algorithm": case.algorithm}},
    )
