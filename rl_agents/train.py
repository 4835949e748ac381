"""Train an agent with Stable-Baselines3 from a training case (``rl_train``, ``rl_target_train``): vectorised envs,
observations normalized on request, held-out evaluation, checkpoints that a re-run of the same case resumes from,
TensorBoard logs and SB3's progress bar."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel
from stable_baselines3.common.callbacks import CallbackList
from stable_baselines3.common.env_util import make_vec_env as sb3_make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv, VecMonitor, VecNormalize

from adaptsim.cases import RunContext
from adaptsim.errors import CaseError, InputError, RunError
from adaptsim.linalg.nn import orthogonal_init_
from adaptsim.progress import is_quiet, log
from rl_agents.algorithms import algorithm_class
from rl_agents.callbacks import CheckpointCallback, ScheduledEvaluation
from rl_agents.case import AgentTrainingCase
from rl_agents.checkpoints import CHECKPOINT_DIR, RESUMABLE_CHANGES, case_fingerprint, resume
from rl_agents.envs.config import EnvConfig
from rl_agents.envs.sb3_vector import SB3VectorAdapter
from rl_agents.envs.three_body import ThreeBodyEnv
from rl_agents.envs.three_body_vector import ThreeBodyVectorEnv
from rl_agents.normalization import MANIFEST_KEY, ObservationNormalization
from rl_agents.policy_options import policy_kwargs
from rl_agents.saved_agents import AgentRecipe, describe_space, write_agent

MODEL_FILE = "model.zip"


def make_vec_env(config: EnvConfig, n_envs: int, seed: int, kind: str) -> VecEnv:
    """``n_envs`` environments of ``config``: ``native`` (one vector env on the batch engine), ``subproc`` (one
    process each) or ``dummy`` (one by one in this process)."""
    if kind == "native":
        env = VecMonitor(SB3VectorAdapter(ThreeBodyVectorEnv(n_envs, config)))
        env.seed(seed)
        return env
    vec_cls = SubprocVecEnv if kind == "subproc" and n_envs > 1 else DummyVecEnv
    return sb3_make_vec_env(ThreeBodyEnv, n_envs=n_envs, seed=seed, vec_env_cls=vec_cls, env_kwargs={"config": config})


def agent_recipe(case: AgentTrainingCase, env: Any) -> AgentRecipe:
    """What rebuilds the case's agent, with the case's fingerprint (checkpoints of another case are refused)."""
    fields = case.model_dump(mode="json", exclude=set(RESUMABLE_CHANGES))
    return AgentRecipe(
        case.algorithm,
        case.policy,
        dict(case.hyperparameters),
        describe_space(env.observation_space),
        describe_space(env.action_space),
        {"fingerprint": case_fingerprint(fields), "case": fields},
    )


def _new_model(case: AgentTrainingCase, env: Any, tensorboard: str | None) -> Any:
    model = algorithm_class(case.algorithm)(
        "MlpPolicy",
        env,
        seed=case.seed,
        policy_kwargs=policy_kwargs(case.policy),
        tensorboard_log=tensorboard,
        device="cpu",
        verbose=0,
        **case.hyperparameters,
    )
    if case.policy.orthogonal_init:
        orthogonal_init_(model.policy)
        target = getattr(model.policy, "q_net_target", None)
        if target is not None:
            target.load_state_dict(model.policy.q_net.state_dict())
    return model


def _final_agent(model: Any, recipe: AgentRecipe, history: dict[str, list[float]], wall: float) -> AgentRecipe:
    """The recipe of the final agent file; observation statistics are folded into the model's weights (in place)."""
    extra = recipe.extra | {"history": history, "train_wall_time_s": wall}
    normalizer = model.get_vec_normalize_env()
    if normalizer is not None:
        folded = ObservationNormalization.of(normalizer).fold_into(model.policy)
        extra[MANIFEST_KEY] = folded.to_manifest()
    return replace(recipe, extra=extra)


#: What prepares a new model before it learns (e.g. :func:`rl_agents.kickstart.kickstart`), returning facts to record.
Preparation = Callable[[Any], dict[str, float]]


def train(
    case: AgentTrainingCase, out_dir: Path, env: VecEnv, evaluation: ScheduledEvaluation, prepare: Preparation | None = None
) -> tuple[Any, dict[str, list[float]], dict[str, Any]]:
    """Train (or resume) the agent of ``case`` in ``out_dir`` on ``env`` (closed at the end), evaluated by
    ``evaluation``; a new model is first given to ``prepare``. Returns the model, the evaluation history and facts
    (wall time, steps, resumed from, what ``prepare`` reported)."""

    torch.set_num_threads(1)
    checkpoints = out_dir / CHECKPOINT_DIR
    if case.normalize_observations:
        env = VecNormalize(env, norm_obs=True, norm_reward=False, clip_obs=math.inf)
    recipe = agent_recipe(case, env)
    tensorboard = str(out_dir / "tensorboard") if case.tensorboard else None
    history = evaluation.history
    try:
        resumed = resume(checkpoints, recipe.extra["case"], env, tensorboard)
        if resumed is not None:
            model, steps_done, wall_before = resumed.model, resumed.steps, resumed.wall_time
            history |= resumed.history
            log(f"resuming from {CHECKPOINT_DIR}/model_{steps_done}_steps.zip ({steps_done} of {case.total_timesteps} steps done)")
        else:
            model, steps_done, wall_before = _new_model(case, env, tensorboard), 0, 0.0
        started = time.perf_counter()
        prepared = prepare(model) if prepare is not None and resumed is None else {}
        if prepared:
            log("prepared the new model: " + ", ".join(f"{key} {value:.4g}" for key, value in prepared.items()))

        def wall_time() -> float:
            return wall_before + time.perf_counter() - started

        callbacks = CallbackList([evaluation, CheckpointCallback(checkpoints, case.checkpoint_every, recipe, history, wall_time)])
        # With nothing left (killed after its last checkpoint) ``learn`` still ends the callbacks: the final model
        # is evaluated once.
        model.learn(
            max(case.total_timesteps - steps_done, 0),
            callback=callbacks,
            reset_num_timesteps=resumed is None,
            progress_bar=not is_quiet(),
            tb_log_name=case.algorithm,
        )
        wall = wall_time()
        write_agent(model, out_dir / MODEL_FILE, _final_agent(model, recipe, history, wall))
    finally:
        env.close()
    facts = {"train_wall_time_s": wall, "timesteps": int(model.num_timesteps), "resumed_from_steps": steps_done} | prepared
    return model, history, facts


def train_in_run(
    case: AgentTrainingCase,
    ctx: RunContext,
    make_env: Callable[[], VecEnv],
    evaluation: ScheduledEvaluation,
    prepare: Preparation | None = None,
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """:func:`train` for a runner: a value SB3 refuses becomes a :class:`~adaptsim.errors.RunError` (a checkpoint of
    another case stays a ``CaseError``), and the outcome goes to the log; returns the history and the facts."""
    try:
        _, history, facts = train(case, ctx.out_dir, make_env(), evaluation, prepare)
    except (CaseError, InputError):
        raise
    except ValueError as error:
        raise RunError(str(error)) from error
    log(f"trained {case.algorithm} for {facts['timesteps']} steps in {facts['train_wall_time_s']:.1f} s; model {ctx.out_dir / MODEL_FILE}")
    return history, facts


def write_training_results(
    ctx: RunContext, case: AgentTrainingCase, env: BaseModel, history: dict[str, list[float]], facts: dict[str, Any]
) -> None:
    """``result.h5`` of a training run: the history as arrays, the environment's configuration and the facts."""
    ctx.write_results(
        {key: np.asarray(value, dtype=float) for key, value in history.items()}
        | {"env_config": json.dumps(env.model_dump(mode="json")), "summary": {}},
        attrs={"summary": facts | {"algorithm": case.algorithm}},
    )
