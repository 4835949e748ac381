"""Agent files written by ``rl_train`` (Stable-Baselines3 zips): their stored spaces, checked against an
environment before anything acts, and loading them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stable_baselines3.common.save_util import load_from_zip_file

from adaptsim.errors import CaseError
from rl_agents.algorithms import ALGORITHMS_SB3, algorithm_class
from rl_agents.envs.config import EnvConfig
from rl_agents.envs.three_body import ThreeBodyEnv


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
    try:
        data, _, _ = load_from_zip_file(path, load_data=True, device="cpu")
    except Exception as error:
        raise ValueError(f"{str(path)!r} is not a Stable-Baselines3 model file ({type(error).__name__})") from None
    return data or {}


def check_saved_spaces(path: str | Path, config: EnvConfig) -> None:
    """Raise ``ValueError`` when the agent saved at ``path`` does not fit the environment of ``config``."""
    data = _saved_data(path)
    env = ThreeBodyEnv(config)
    problem = space_mismatch(data.get("observation_space"), data.get("action_space"), env, f"env.observation {config.observation!r}")
    if problem:
        raise ValueError(f"the agent in {str(path)!r} {problem}")


def load_agent(path: str | Path, config: EnvConfig):
    """Load a trained agent and check it against the environment ``config`` describes."""
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
        except Exception:
            continue
    raise CaseError("is not a Stable-Baselines3 model this suite can load", source=str(path))
