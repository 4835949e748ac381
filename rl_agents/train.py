"""Train an agent with Stable-Baselines3 from an ``rl_train`` case: vectorised envs, held-out evaluation,
checkpoints that a re-run resumes from, TensorBoard logs and SB3's progress bar."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import torch
from stable_baselines3.common.callbacks import CallbackList, CheckpointCallback
from stable_baselines3.common.env_util import make_vec_env as sb3_make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

from adaptsim.linalg.nn import orthogonal_init_
from adaptsim.progress import is_quiet, log
from adaptsim.results import atomic_path
from rl_agents.algorithms import algorithm_class
from rl_agents.callbacks import HeldOutEvaluationCallback
from rl_agents.case import RLTrainCase
from rl_agents.envs.config import EnvConfig
from rl_agents.envs.three_body import ThreeBodyEnv
from rl_agents.optimizers import optimizer_class, orthogonality_regularized
from rl_agents.saved_agents import check_compatible

MODEL_FILE = "model.zip"
ENV_CONFIG_FILE = "env_config.json"
CHECKPOINT_DIR = "checkpoints"


def make_vec_env(config: EnvConfig, n_envs: int, seed: int, kind: str):
    """``n_envs`` environments of ``config``, in subprocesses or in this process."""

    vec_cls = SubprocVecEnv if kind == "subproc" and n_envs > 1 else DummyVecEnv
    return sb3_make_vec_env(ThreeBodyEnv, n_envs=n_envs, seed=seed, vec_env_cls=vec_cls, env_kwargs={"config": config})


def policy_kwargs(case: RLTrainCase) -> dict[str, Any]:
    """SB3 ``policy_kwargs`` from the case's policy options."""

    options = case.policy
    optimizer = optimizer_class(options.optimizer)
    if options.orthogonality_weight > 0.0:
        optimizer = orthogonality_regularized(optimizer, options.orthogonality_weight)
    activation = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}[options.activation]
    return {"net_arch": list(options.net_arch), "activation_fn": activation, "optimizer_class": optimizer}


def latest_checkpoint(directory: Path) -> tuple[Path, int] | None:
    """The newest ``model_<steps>_steps.zip`` in ``directory`` and its step count."""
    found = []
    for path in directory.glob("model_*_steps.zip"):
        match = re.fullmatch(r"model_(\d+)_steps\.zip", path.name)
        if match:
            found.append((int(match.group(1)), path))
    if not found:
        return None
    steps, path = max(found)
    return path, steps


def train(case: RLTrainCase, out_dir: Path) -> tuple[Any, dict[str, list[float]], dict[str, Any]]:
    """Train (or resume) the agent of ``case`` in ``out_dir``; returns the model, the held-out history and facts."""

    torch.set_num_threads(1)
    checkpoints = out_dir / CHECKPOINT_DIR
    env = make_vec_env(case.env, case.n_envs, case.seed, case.vec_env)
    (out_dir / ENV_CONFIG_FILE).write_text(case.env.model_dump_json(indent=2))
    cls = algorithm_class(case.algorithm)
    tensorboard = str(out_dir / "tensorboard") if case.tensorboard else None
    resumed_from = latest_checkpoint(checkpoints)
    if resumed_from is not None:
        path, steps_done = resumed_from
        model = cls.load(path, env=env, device="cpu", tensorboard_log=tensorboard)
        check_compatible(model, env, str(path))
        buffer = checkpoints / f"model_replay_buffer_{steps_done}_steps.pkl"
        if buffer.exists() and hasattr(model, "load_replay_buffer"):
            model.load_replay_buffer(buffer)
        log(f"resuming from {path.name} ({steps_done} of {case.total_timesteps} steps done)")
    else:
        steps_done = 0
        model = cls(
            "MlpPolicy",
            env,
            seed=case.seed,
            policy_kwargs=policy_kwargs(case),
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
    model._adaptsim_algorithm = case.algorithm
    history: dict[str, list[float]] = {"timesteps": [], "median_energy_error": [], "mean_cost": []}
    callbacks = CallbackList(
        [
            CheckpointCallback(
                save_freq=max(case.checkpoint_every // case.n_envs, 1),
                save_path=str(checkpoints),
                name_prefix="model",
                save_replay_buffer=True,
            ),
            HeldOutEvaluationCallback(case.env, case.evaluation, history),
        ]
    )
    started = time.perf_counter()
    remaining = case.total_timesteps - steps_done
    if remaining > 0:
        model.learn(
            remaining, callback=callbacks, reset_num_timesteps=resumed_from is None, progress_bar=not is_quiet(), tb_log_name=case.algorithm
        )
    wall = time.perf_counter() - started
    with atomic_path(out_dir / MODEL_FILE) as tmp, open(tmp, "wb") as handle:
        model.save(handle)
    env.close()
    facts = {"train_wall_time_s": wall, "timesteps": int(model.num_timesteps), "resumed_from_steps": steps_done}
    return model, history, facts
