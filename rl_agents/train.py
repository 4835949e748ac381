"""Train an agent with Stable-Baselines3 from an ``rl_train`` case: vectorised envs, held-out evaluation,
checkpoints that a re-run of the same case resumes from, TensorBoard logs and SB3's progress bar."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
from stable_baselines3.common.callbacks import CallbackList
from stable_baselines3.common.env_util import make_vec_env as sb3_make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

from adaptsim.linalg.nn import orthogonal_init_
from adaptsim.progress import is_quiet, log
from rl_agents.algorithms import algorithm_class
from rl_agents.callbacks import CheckpointCallback, HeldOutEvaluationCallback
from rl_agents.case import RLTrainCase
from rl_agents.checkpoints import CHECKPOINT_DIR, RESUMABLE_CHANGES, case_fingerprint, resume
from rl_agents.envs.config import EnvConfig
from rl_agents.envs.three_body import ThreeBodyEnv
from rl_agents.policy_options import policy_kwargs
from rl_agents.saved_agents import AgentRecipe, describe_space, write_agent

MODEL_FILE = "model.zip"
ENV_CONFIG_FILE = "env_config.json"


def make_vec_env(config: EnvConfig, n_envs: int, seed: int, kind: str):
    """``n_envs`` environments of ``config``, in subprocesses or in this process."""

    vec_cls = SubprocVecEnv if kind == "subproc" and n_envs > 1 else DummyVecEnv
    return sb3_make_vec_env(ThreeBodyEnv, n_envs=n_envs, seed=seed, vec_env_cls=vec_cls, env_kwargs={"config": config})


def agent_recipe(case: RLTrainCase, env: Any) -> AgentRecipe:
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


def _new_model(case: RLTrainCase, env: Any, tensorboard: str | None) -> Any:
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


def train(case: RLTrainCase, out_dir: Path) -> tuple[Any, dict[str, list[float]], dict[str, Any]]:
    """Train (or resume) the agent of ``case`` in ``out_dir``; returns the model, the held-out history and facts."""

    torch.set_num_threads(1)
    checkpoints = out_dir / CHECKPOINT_DIR
    env = make_vec_env(case.env, case.n_envs, case.seed, case.vec_env)
    recipe = agent_recipe(case, env)
    tensorboard = str(out_dir / "tensorboard") if case.tensorboard else None
    try:
        resumed = resume(checkpoints, recipe.extra["case"], env, tensorboard)
        (out_dir / ENV_CONFIG_FILE).write_text(case.env.model_dump_json(indent=2))
        history: dict[str, list[float]] = {"timesteps": [], "median_energy_error": [], "mean_cost": []}
        if resumed is not None:
            model, steps_done, wall_before = resumed.model, resumed.steps, resumed.wall_time
            history |= resumed.history
            log(f"resuming from {CHECKPOINT_DIR}/model_{steps_done}_steps.zip ({steps_done} of {case.total_timesteps} steps done)")
        else:
            model, steps_done, wall_before = _new_model(case, env, tensorboard), 0, 0.0
        started = time.perf_counter()

        def wall_time() -> float:
            return wall_before + time.perf_counter() - started

        callbacks = CallbackList(
            [
                HeldOutEvaluationCallback(case.env, case.evaluation, history),
                CheckpointCallback(checkpoints, case.checkpoint_every, recipe, history, wall_time),
            ]
        )
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
        write_agent(model, out_dir / MODEL_FILE, recipe)
    finally:
        env.close()
    facts = {"train_wall_time_s": wall, "timesteps": int(model.num_timesteps), "resumed_from_steps": steps_done}
    return model, history, facts
