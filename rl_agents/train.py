"""Train an agent with Stable-Baselines3 from an ``rl_train`` case: vectorised envs, held-out evaluation,
checkpoints that a re-run resumes from, TensorBoard logs and SB3's progress bar."""

from __future__ import annotations

import inspect
import json
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from adaptsim.cases import RunContext
from adaptsim.errors import CaseError, RunError
from rl_agents.cases import ALGORITHMS_SB3, RLTrainCase
from rl_agents.envs.config import EnvConfig

MODEL_FILE = "model.zip"
ENV_CONFIG_FILE = "env_config.json"
CHECKPOINT_DIR = "checkpoints"


def algorithm_class(name: str) -> type:
    """The SB3 or sb3-contrib class of an algorithm name."""
    if name in ALGORITHMS_SB3:
        import stable_baselines3

        return getattr(stable_baselines3, name)
    import sb3_contrib

    return getattr(sb3_contrib, name)


def check_hyperparameters(algorithm: str, hyperparameters: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming the first key the algorithm's constructor does not take."""
    reserved = {"policy", "env", "seed", "policy_kwargs", "tensorboard_log", "verbose", "device", "_init_setup_model"}
    accepted = set(inspect.signature(algorithm_class(algorithm).__init__).parameters) - reserved
    for key in hyperparameters:
        if key not in accepted:
            raise ValueError(f"hyperparameters: {algorithm} takes no {key!r}; it takes {', '.join(sorted(accepted))}")


def make_vec_env(config: EnvConfig, n_envs: int, seed: int, kind: str):
    """``n_envs`` environments of ``config``, in subprocesses or in this process."""
    from stable_baselines3.common.env_util import make_vec_env as sb3_make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    from rl_agents.envs.three_body import ThreeBodyEnv

    vec_cls = SubprocVecEnv if kind == "subproc" and n_envs > 1 else DummyVecEnv
    return sb3_make_vec_env(ThreeBodyEnv, n_envs=n_envs, seed=seed, vec_env_cls=vec_cls, env_kwargs={"config": config})


def policy_kwargs(case: RLTrainCase) -> dict[str, Any]:
    """SB3 ``policy_kwargs`` from the case's policy options."""
    import torch

    from rl_agents.optimizers import optimizer_class, orthogonality_regularized

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


def space_mismatch(observation_space: Any, action_space: Any, env: Any, env_name: str = "the environment") -> str | None:
    """What keeps an agent with these spaces from acting in ``env`` (None when it fits)."""
    shape = None if observation_space is None else observation_space.shape
    if shape != env.observation_space.shape:
        return f"expects observations of shape {shape}, {env_name} gives {env.observation_space.shape} (another observation layout)"
    if type(action_space) is not type(env.action_space) or getattr(action_space, "n", None) != getattr(env.action_space, "n", None):
        return f"acts in {action_space}, {env_name} in {env.action_space}"
    return None


def check_compatible(model: Any, env: Any, source: str) -> None:
    """Raise :class:`CaseError` when a loaded model does not fit the environment's spaces."""
    problem = space_mismatch(model.observation_space, model.action_space, env)
    if problem:
        raise CaseError(problem, source=source)


def _saved_data(path: str | Path) -> dict[str, Any]:
    """The metadata (spaces, algorithm) stored in an SB3 model file; ``ValueError`` if it is not one."""
    from stable_baselines3.common.save_util import load_from_zip_file

    try:
        data, _, _ = load_from_zip_file(path, load_data=True, device="cpu")
    except Exception as error:  # noqa: BLE001 - any unreadable file gets the same message
        raise ValueError(f"{str(path)!r} is not a Stable-Baselines3 model file ({type(error).__name__})") from None
    return data or {}


def check_saved_spaces(path: str | Path, config: EnvConfig) -> None:
    """Raise ``ValueError`` when the agent saved at ``path`` does not fit the environment of ``config``."""
    from rl_agents.envs.three_body import ThreeBodyEnv

    data = _saved_data(path)
    env = ThreeBodyEnv(config)
    problem = space_mismatch(data.get("observation_space"), data.get("action_space"), env, f"env.observation {config.observation!r}")
    if problem:
        raise ValueError(f"the agent in {str(path)!r} {problem}")


def load_agent(path: str | Path, config: EnvConfig):
    """Load a trained agent and check it against the environment ``config`` describes."""
    from rl_agents.envs.three_body import ThreeBodyEnv

    path = Path(path)
    try:
        data = _saved_data(path)
    except ValueError as error:
        raise CaseError(str(error), source=str(path)) from None
    env = ThreeBodyEnv(config)
    problem = space_mismatch(data.get("observation_space"), data.get("action_space"), env)
    if problem:
        raise CaseError(problem, source=str(path))
    algorithm = data.get("_adaptsim_algorithm")
    for name in [algorithm] if algorithm else list(ALGORITHMS_SB3):
        try:
            return algorithm_class(name).load(path, device="cpu")
        except Exception:  # noqa: BLE001 - a file saved without the algorithm name: try the next class
            continue
    raise CaseError("is not a Stable-Baselines3 model this suite can load", source=str(path))


class _HeldOutCallback:
    """Factory of the SB3 callback that evaluates on held-out seeds (SB3 is imported lazily)."""

    @staticmethod
    def make(case: RLTrainCase, history: dict[str, list[float]]):
        from stable_baselines3.common.callbacks import BaseCallback

        from rl_agents.rollout import agent_policy, evaluate_policy

        class HeldOutEvaluation(BaseCallback):
            """Every ``evaluation.every`` steps: median final energy error and mean cost on held-out seeds."""

            def __init__(self) -> None:
                super().__init__()
                self.next_at = 0

            def _on_step(self) -> bool:
                if self.num_timesteps >= self.next_at:
                    self.next_at = self.num_timesteps + case.evaluation.every
                    seeds = range(case.evaluation.seed_start, case.evaluation.seed_start + case.evaluation.n_seeds)
                    result = evaluate_policy(case.env, agent_policy(self.model), seeds, case.evaluation.steps)
                    history["timesteps"].append(self.num_timesteps)
                    history["median_energy_error"].append(result.median_energy_error)
                    history["mean_cost"].append(result.mean_cost)
                    self.logger.record("heldout/log10_median_energy_error", float(np.log10(max(result.median_energy_error, 1e-16))))
                    self.logger.record("heldout/mean_force_evals", result.mean_cost)
                return True

        return HeldOutEvaluation()


def train(case: RLTrainCase, out_dir: Path) -> tuple[Any, dict[str, list[float]], dict[str, Any]]:
    """Train (or resume) the agent of ``case`` in ``out_dir``; returns the model, the held-out history and facts."""
    import torch
    from stable_baselines3.common.callbacks import CallbackList, CheckpointCallback

    from adaptsim.linalg.nn import orthogonal_init_
    from adaptsim.progress import is_quiet, log
    from adaptsim.results import atomic_path

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
        model = cls("MlpPolicy", env, seed=case.seed, policy_kwargs=policy_kwargs(case), tensorboard_log=tensorboard, device="cpu", verbose=0, **case.hyperparameters)
        if case.policy.orthogonal_init:
            orthogonal_init_(model.policy)
            target = getattr(model.policy, "q_net_target", None)
            if target is not None:
                target.load_state_dict(model.policy.q_net.state_dict())
    model._adaptsim_algorithm = case.algorithm
    history: dict[str, list[float]] = {"timesteps": [], "median_energy_error": [], "mean_cost": []}
    callbacks = CallbackList(
        [
            CheckpointCallback(save_freq=max(case.checkpoint_every // case.n_envs, 1), save_path=str(checkpoints), name_prefix="model", save_replay_buffer=True),
            _HeldOutCallback.make(case, history),
        ]
    )
    started = time.perf_counter()
    remaining = case.total_timesteps - steps_done
    if remaining > 0:
        model.learn(remaining, callback=callbacks, reset_num_timesteps=resumed_from is None, progress_bar=not is_quiet(), tb_log_name=case.algorithm)
    wall = time.perf_counter() - started
    with atomic_path(out_dir / MODEL_FILE) as tmp, open(tmp, "wb") as handle:
        model.save(handle)
    env.close()
    facts = {"train_wall_time_s": wall, "timesteps": int(model.num_timesteps), "resumed_from_steps": steps_done}
    return model, history, facts


def run(case: RLTrainCase, ctx: RunContext) -> None:
    """Train, then write ``model.zip``, the learning curve (PNG) and the HDF5 result."""
    import matplotlib.pyplot as plt

    from adaptsim.progress import log

    try:
        model, history, facts = train(case, ctx.out_dir)
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
        {key: np.asarray(value, dtype=float) for key, value in history.items()} | {"env_config": json.dumps(case.env.model_dump(mode="json")), "summary": {}},
        attrs={"summary": facts | {"algorithm": case.algorithm}},
    )
