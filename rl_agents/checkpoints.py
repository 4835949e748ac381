"""Training checkpoints of ``rl_train``: which one a re-run resumes, and the replay buffer without pickle.

A checkpoint is ``checkpoints/model_<steps>_steps.zip`` (the agent with its manifest: the case fingerprint, the
held-out history and the wall time so far) and, for off-policy algorithms, ``replay_buffer_<steps>_steps.npz``
(the buffer's arrays, read back with ``allow_pickle=False``). Both are written atomically by
:class:`rl_agents.callbacks.CheckpointCallback`; the newest :data:`KEEP` are kept.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecNormalize

from adaptsim.errors import CaseError
from adaptsim.progress import log
from adaptsim.results import atomic_path
from rl_agents.saved_agents import AgentFile, AgentFileError, load_model, observation_statistics, read_agent

CHECKPOINT_DIR = "checkpoints"
KEEP = 2
#: Fields of an ``rl_train`` case that a resumed run may change: they do not change what is trained.
RESUMABLE_CHANGES = frozenset({"description", "total_timesteps", "checkpoint_every", "tensorboard"})
BUFFER_ARRAYS = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")


def checkpoint_path(directory: Path, steps: int) -> Path:
    """The agent file of the checkpoint after ``steps`` steps."""
    return directory / f"model_{steps}_steps.zip"


def buffer_path(directory: Path, steps: int) -> Path:
    """The replay-buffer file of the checkpoint after ``steps`` steps."""
    return directory / f"replay_buffer_{steps}_steps.npz"


def saved_steps(directory: Path) -> list[int]:
    """Step counts of the checkpoints in ``directory``, newest first."""
    found = [re.fullmatch(r"model_(\d+)_steps\.zip", path.name) for path in directory.glob("model_*_steps.zip")]
    return sorted((int(match.group(1)) for match in found if match), reverse=True)


def case_fingerprint(fields: dict[str, Any]) -> str:
    """Hash of the case fields that define what is trained (all but :data:`RESUMABLE_CHANGES`)."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def remove_stale(directory: Path) -> None:
    """Delete the checkpoints beyond the newest :data:`KEEP`."""
    for steps in saved_steps(directory)[KEEP:]:
        checkpoint_path(directory, steps).unlink(missing_ok=True)
        buffer_path(directory, steps).unlink(missing_ok=True)


def save_replay_buffer(buffer: Any, path: Path) -> None:
    """Write the filled part of an SB3 replay buffer as an ``.npz``, atomically."""
    filled = buffer.buffer_size if buffer.full else buffer.pos
    arrays = {name: getattr(buffer, name)[:filled] for name in BUFFER_ARRAYS if getattr(buffer, name, None) is not None}
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        np.savez(handle, pos=np.int64(buffer.pos), full=np.bool_(buffer.full), **arrays)


def load_replay_buffer(buffer: Any, path: Path) -> None:
    """Fill an SB3 replay buffer from :func:`save_replay_buffer`'s file; ``ValueError`` when it does not fit."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            pos, full = int(saved["pos"]), bool(saved["full"])
            filled = buffer.buffer_size if full else pos
            for name in BUFFER_ARRAYS:
                target = getattr(buffer, name, None)
                if target is None:
                    continue
                array = saved[name]
                if array.shape != (filled, *target.shape[1:]) or filled > target.shape[0]:
                    raise ValueError(f"holds {name} of shape {array.shape}, the agent's buffer takes ({filled}, {target.shape[1:]})")
                target[:filled] = array
    except (OSError, KeyError, EOFError) as error:
        raise ValueError(f"is not a readable replay buffer ({type(error).__name__})") from None
    buffer.pos, buffer.full = pos % buffer.buffer_size, full


@dataclass
class Resumed:
    """A checkpoint a re-run continues from.

    Attributes
    ----------
    model
        The agent, bound to the training environments.
    steps
        Environment steps it was trained for.
    history
        The held-out evaluation history so far.
    wall_time
        Training wall time so far (seconds, over every earlier session).
    """

    model: Any
    steps: int
    history: dict[str, list[float]]
    wall_time: float


def _changed_fields(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    return sorted(key for key in set(saved) | set(current) if saved.get(key) != current.get(key))


def _check_same_case(agent: AgentFile, fields: dict[str, Any], source: str) -> None:
    saved = agent.recipe.extra.get("case")
    if agent.recipe.extra.get("fingerprint") == case_fingerprint(fields):
        return
    changed = _changed_fields(saved, fields) if isinstance(saved, dict) else ["(no case recorded: an older adaptsim)"]
    raise CaseError(
        f"was trained from another case (changed: {', '.join(changed)}); to start over use another --out or delete {Path(source).parent}",
        source=source,
    )


def resume(directory: Path, fields: dict[str, Any], env: Any, tensorboard_log: str | None) -> Resumed | None:
    """The newest readable checkpoint of this case in ``directory`` (None: nothing to resume).

    An unreadable checkpoint (truncated, corrupt) is skipped with one line and the previous one is taken; a
    checkpoint of another case raises :class:`~adaptsim.errors.CaseError` naming the changed fields.
    """
    for steps in saved_steps(directory):
        path = checkpoint_path(directory, steps)
        try:
            agent = read_agent(path)
            _check_same_case(agent, fields, str(path))
            statistics = observation_statistics(agent)
            if (statistics is not None) != isinstance(env, VecNormalize) or (statistics is not None and statistics.folded):
                raise AgentFileError("its observation statistics do not fit the case")
            model = load_model(agent, env, env=env, tensorboard_log=tensorboard_log)
        except AgentFileError as error:
            log(f"checkpoint {path.name} cannot be resumed ({error}); trying the previous one")
            continue
        if statistics is not None:
            statistics.restore(env)
        if hasattr(model, "replay_buffer") and model.replay_buffer is not None:
            buffer = buffer_path(directory, steps)
            try:
                if not buffer.is_file():
                    raise ValueError("is missing")
                load_replay_buffer(model.replay_buffer, buffer)
            except ValueError as error:
                log(f"replay buffer {buffer.name} {error}: resuming with an empty replay buffer")
        extra = agent.recipe.extra
        history = {key: [float(v) for v in values] for key, values in dict(extra.get("history", {})).items()}
        return Resumed(model, steps, history, float(extra.get("train_wall_time_s", 0.0)))
    return None
