"""The runner of the ``rl_train`` kind: train, then write ``model.zip``, the learning curve and ``result.h5``."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np

from adaptsim.cases import RunContext
from adaptsim.errors import CaseError, RunError
from adaptsim.progress import log
from rl_agents.callbacks import HeldOutEvaluationCallback
from rl_agents.case import RLTrainCase
from rl_agents.train import MODEL_FILE, make_vec_env, train


def run(case: RLTrainCase, ctx: RunContext) -> None:
    """Train, then write ``model.zip``, the learning curve (PNG) and the HDF5 result."""

    try:
        env = make_vec_env(case.env, case.n_envs, case.seed, case.vec_env)
        model, history, facts = train(case, ctx.out_dir, env, HeldOutEvaluationCallback(case.env, case.evaluation))
    except CaseError:  # a checkpoint of another case
        raise
    except ValueError as error:  # SB3 rejecting a hyper-parameter value
        raise RunError(str(error)) from error
    log(f"trained {case.algorithm} for {facts['timesteps']} steps in {facts['train_wall_time_s']:.1f} s; model {ctx.out_dir / MODEL_FILE}")
    figure, axis = plt.subplots(figsize=(6.5, 4))
    if history["timesteps"]:
        axis.semilogy(history["timesteps"], np.maximum(history["median_energy_error"], 1e-16), "o-", label="median final energy error")
        twin = axis.twinx()
        twin.plot(history["timesteps"], history["mean_cost"], "s--", color="tab:red", label="mean force evaluations")
        twin.set_ylabel("mean force evaluations", color="tab:red")
    axis.set_xlabel("training steps")
    axis.set_ylabel("median final energy error (held-out seeds)")
    axis.set_title(f"{case.algorithm} on adaptsim/ThreeBody-v0")
    ctx.save_figure(figure, "learning_curve.png")
    ctx.write_results(
        {key: np.asarray(value, dtype=float) for key, value in history.items()}
        | {"env_config": json.dumps(case.env.model_dump(mode="json")), "summary": {}},
        attrs={"summary": facts | {"algorithm": case.algorithm}},
    )
