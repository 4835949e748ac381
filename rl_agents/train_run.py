"""The runner of the ``rl_train`` kind: train, then write ``model.zip``, the learning curve and ``result.h5``."""

from __future__ import annotations

from functools import partial

import matplotlib.pyplot as plt
import numpy as np

from adaptsim.cases import RunContext
from rl_agents.callbacks import HeldOutEvaluationCallback
from rl_agents.case import RLTrainCase
from rl_agents.train import make_vec_env, train_in_run, write_training_results


def run(case: RLTrainCase, ctx: RunContext) -> None:
    """Train, then write ``model.zip``, the learning curve (PNG) and the HDF5 result."""

    make_env = partial(make_vec_env, case.env, case.n_envs, case.seed, case.vec_env)
    history, facts = train_in_run(case, ctx, make_env, HeldOutEvaluationCallback(case.env, case.evaluation))
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
    write_training_results(ctx, case, case.env, history, facts)
