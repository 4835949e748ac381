"""Agent files (Stable-Baselines3 zips): written with an adaptsim manifest, read without running code from them.

An SB3 zip keeps the objects its ``data`` entry cannot write as JSON (spaces, schedules, the policy class, the
network's keyword arguments, ...) cloudpickled, and SB3's loader unpickles them: opening a stranger's agent would
run the stranger's code. Here nothing from the file is unpickled:

* ``data`` is read as JSON only; every pickled entry is *rebuilt* (passed to SB3 as ``custom_objects``, so SB3
  never decodes it): the spaces from the environment configuration, the policy class from the algorithm, the
  network's keyword arguments from the saved policy options, schedules and buffers by the algorithm's own set-up,
  constructor arguments from the saved hyper-parameters (or their defaults). An entry that cannot be rebuilt is
  refused with one line naming it.
* the weights and optimizer state (``.pth`` entries) are read by ``torch.load(weights_only=True)`` (SB3's own
  reader), which accepts tensors and plain containers only.
* what the rebuild needs comes from the file's ``adaptsim.json`` manifest (written by ``rl_train``), or, for an SB3
  zip written elsewhere, from the readable text SB3 stores beside each pickled entry (MLP policies with the
  activations and optimizers listed in :data:`ACTIVATION_CLASSES` and :data:`OPTIMIZER_CLASSES`).
"""

from __future__ import annotations

import errno
import inspect
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adaptsim.errors import CaseError, first_line
from rl_agents.algorithms import ALGORITHMS_CONTRIB, ALGORITHMS_SB3, algorithm_class
from rl_agents.envs.config import EnvConfig
from rl_agents.normalization import ObservationNormalization
from rl_agents.policy_options import PolicyOptions, policy_kwargs

MANIFEST = "adaptsim.json"
AGENT_FORMAT = "adaptsim-agent"
AGENT_FORMAT_VERSION = 1
MAX_AGENT_BYTES = 1 << 30  # 1 GiB: larger than any MLP agent; refuses zip bombs before they are inflated
MAX_DATA_BYTES = 16 << 20
ACTIVATION_CLASSES = {"torch.nn.modules.activation.ReLU": "relu", "torch.nn.modules.activation.Tanh": "tanh"}
OPTIMIZER_CLASSES = {"torch.optim.adam.Adam": "adam", "torch.optim.sgd.SGD": "sgd", "adamp.adamp.AdamP": "adamp"}
# Entries of an algorithm's state that its own set-up (or the next ``learn``) rebuilds when they are None.
_REBUILT_BY_SETUP = {
    "lr_schedule",
    "exploration_schedule",
    "_last_obs",
    "_last_episode_starts",
    "_last_original_obs",
    "ep_info_buffer",
    "ep_success_buffer",
}


class AgentFileError(ValueError):
    """An agent file that cannot be read or rebuilt without running code from it (one line)."""


@dataclass
class AgentRecipe:
    """What rebuilds an agent: algorithm, policy options, hyper-parameters, and the spaces it was trained in.

    Attributes
    ----------
    algorithm
        SB3 or sb3-contrib algorithm name.
    policy
        Network and optimizer options.
    hyperparameters
        The algorithm's keyword arguments (JSON values).
    observation, action
        The saved spaces, as :func:`describe_space` writes them.
    extra
        Further manifest entries (a checkpoint's case fingerprint, held-out history, wall time).
    """

    algorithm: str
    policy: PolicyOptions
    hyperparameters: dict[str, Any]
    observation: dict[str, Any]
    action: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


def describe_space(space: Any) -> dict[str, Any]:
    """A space as JSON: ``{"type": "Discrete", "n": 10}`` or ``{"type": "Box", "shape": [8]}``."""
    name = type(space).__name__
    if hasattr(space, "n"):
        return {"type": name, "n": int(space.n)}
    return {"type": name, "shape": [int(size) for size in space.shape]}


def space_mismatch(observation: dict[str, Any], action: dict[str, Any], env: Any, env_name: str = "the environment") -> str | None:
    """What keeps an agent with these (described) spaces from acting in ``env`` (None when it fits)."""
    wanted_observation, wanted_action = describe_space(env.observation_space), describe_space(env.action_space)
    if observation.get("shape") != wanted_observation["shape"]:
        shape = tuple(observation.get("shape") or ())
        return f"expects observations of shape {shape}, {env_name} gives {tuple(wanted_observation['shape'])} (another observation layout)"
    if action != wanted_action:
        return f"acts in {_space_text(action)}, {env_name} in {_space_text(wanted_action)}"
    return None


def _space_text(space: dict[str, Any]) -> str:
    return f"Discrete({space['n']})" if "n" in space else f"{space.get('type')}{tuple(space.get('shape') or ())}"


def write_agent(model: Any, path: str | Path, recipe: AgentRecipe) -> Path:
    """Save ``model`` as an SB3 zip with the manifest of ``recipe``, atomically (a kill leaves the old file or none)."""
    from adaptsim.results import atomic_path

    path = Path(path)
    manifest = {
        "format": AGENT_FORMAT,
        "version": AGENT_FORMAT_VERSION,
        "algorithm": recipe.algorithm,
        "policy": recipe.policy.model_dump(mode="json"),
        "hyperparameters": recipe.hyperparameters,
        "observation": recipe.observation,
        "action": recipe.action,
        **recipe.extra,
    }
    try:
        with atomic_path(path) as temporary:
            model.save(temporary)
            with zipfile.ZipFile(temporary, "a") as archive:
                archive.writestr(MANIFEST, json.dumps(manifest, indent=1))
    except RuntimeError as error:  # torch reports a full disk as a RuntimeError of its zip writer
        raise OSError(errno.EIO, first_line(error), str(path)) from None
    return path


def _read_archive(path: Path) -> tuple[bytes, dict[str, Any], dict[str, Any] | None]:
    """The file's bytes, its ``data`` JSON and its manifest (None when absent); :class:`AgentFileError` otherwise."""
    if path.is_dir():
        raise AgentFileError("is a directory, not an agent file")
    try:
        size = path.stat().st_size
    except OSError as error:
        raise AgentFileError(f"cannot be read ({error.strerror})") from None
    if size > MAX_AGENT_BYTES:
        raise AgentFileError(f"is {size / 2**30:.1f} GiB; an agent file is at most {MAX_AGENT_BYTES >> 30} GiB")
    content = path.read_bytes()
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = {info.filename: info for info in archive.infolist()}
            if sum(info.file_size for info in entries.values()) > MAX_AGENT_BYTES:
                raise AgentFileError(f"inflates to more than {MAX_AGENT_BYTES >> 30} GiB")
            if "data" not in entries:
                raise AgentFileError("is a zip archive without the 'data' entry of a Stable-Baselines3 agent")
            if entries["data"].file_size > MAX_DATA_BYTES:
                raise AgentFileError(f"has a 'data' entry over {MAX_DATA_BYTES >> 20} MiB")
            data = json.loads(archive.read("data").decode())
            manifest = json.loads(archive.read(MANIFEST).decode()) if MANIFEST in entries else None
    except AgentFileError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise AgentFileError(f"is not a readable agent file: not a complete zip archive ({error})") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise AgentFileError("has a 'data' or manifest entry that is not JSON") from None
    if not isinstance(data, dict) or (manifest is not None and not isinstance(manifest, dict)):
        raise AgentFileError("has a 'data' or manifest entry that is not a JSON object")
    return content, data, manifest


def _readable(entry: Any, key: str) -> Any:
    """A readable attribute SB3 writes beside a pickled entry (JSON, or its text form)."""
    if not isinstance(entry, dict) or key not in entry:
        return None
    value = entry[key]
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _class_path(text: Any) -> str:
    match = re.fullmatch(r"<class '([^']+)'>", str(text))
    return match.group(1) if match else str(text)


def _recipe_from_data(data: dict[str, Any]) -> AgentRecipe:
    """The recipe of an SB3 zip without manifest, from the readable text of its entries."""
    algorithm = data.get("_adaptsim_algorithm")
    if not isinstance(algorithm, str):
        module = str(_readable(data.get("policy_class"), "__module__") or "")
        match = re.fullmatch(r"(?:stable_baselines3|sb3_contrib)\.(\w+)\.policies", module)
        names = {name.lower(): name for name in ALGORITHMS_SB3 + ALGORITHMS_CONTRIB}
        algorithm = names.get(match.group(1)) if match else None
        if algorithm is None:
            raise AgentFileError(f"does not say which algorithm wrote it (policy module {module or 'missing'})")
    kwargs = data.get("policy_kwargs") or {}
    net_arch = _readable(kwargs, "net_arch") if ":serialized:" in kwargs else kwargs.get("net_arch")
    activation = _class_path(_readable(kwargs, "activation_fn") or "<class 'torch.nn.modules.activation.ReLU'>")
    optimizer = _class_path(_readable(kwargs, "optimizer_class") or "<class 'torch.optim.adam.Adam'>")
    if activation not in ACTIVATION_CLASSES:
        raise AgentFileError(f"uses activation {activation}; without its manifest only {', '.join(ACTIVATION_CLASSES)} can be rebuilt")
    if optimizer not in OPTIMIZER_CLASSES:
        raise AgentFileError(f"uses optimizer {optimizer}; without its manifest only {', '.join(OPTIMIZER_CLASSES)} can be rebuilt")
    try:
        policy = PolicyOptions(
            net_arch=net_arch if net_arch is not None else [64, 64],
            activation=ACTIVATION_CLASSES[activation],  # type: ignore[arg-type]
            optimizer=OPTIMIZER_CLASSES[optimizer],  # type: ignore[arg-type]
        )
    except ValueError:
        raise AgentFileError(f"has a network layout {net_arch!r} that is not a list of layer sizes") from None
    observation = {"type": "Box", "shape": list(_readable(data.get("observation_space"), "_shape") or [])}
    action_entry = data.get("action_space")
    n = _readable(action_entry, "n")
    action = {"type": "Discrete", "n": int(n)} if n is not None else {"type": "Box", "shape": list(_readable(action_entry, "_shape") or [])}
    hyperparameters = {key: value for key, value in data.items() if not isinstance(value, dict)}
    return AgentRecipe(algorithm, policy, hyperparameters, observation, action)


def _recipe_from_manifest(manifest: dict[str, Any]) -> AgentRecipe:
    if manifest.get("format") != AGENT_FORMAT:
        raise AgentFileError(f"has a manifest of format {manifest.get('format')!r}, not {AGENT_FORMAT!r}")
    if manifest.get("version") != AGENT_FORMAT_VERSION:
        raise AgentFileError(f"is agent format version {manifest.get('version')!r}; this adaptsim reads version {AGENT_FORMAT_VERSION}")
    algorithm = manifest.get("algorithm")
    if algorithm not in ALGORITHMS_SB3 + ALGORITHMS_CONTRIB:
        raise AgentFileError(f"names an unknown algorithm {algorithm!r}")
    try:
        policy = PolicyOptions.model_validate(manifest.get("policy", {}))
    except ValueError as error:
        raise AgentFileError(f"has invalid policy options ({str(error).splitlines()[-1].strip()})") from None
    known = {"format", "version", "algorithm", "policy", "hyperparameters", "observation", "action"}
    parts = [manifest.get(key) for key in ("hyperparameters", "observation", "action")]
    if not all(isinstance(part, dict) for part in parts):
        raise AgentFileError("has a manifest without hyperparameters, observation and action objects")
    extra = {key: value for key, value in manifest.items() if key not in known}
    return AgentRecipe(str(algorithm), policy, parts[0], parts[1], parts[2], extra)  # type: ignore[arg-type]


@dataclass
class AgentFile:
    """An agent file read without running anything from it.

    Attributes
    ----------
    path
        Where it was read.
    recipe
        What rebuilds it.
    content
        The file's bytes (SB3 loads these, never the path again).
    data
        Its ``data`` entry as JSON.
    """

    path: Path
    recipe: AgentRecipe
    content: bytes
    data: dict[str, Any]

    def custom_objects(self, env: Any) -> dict[str, Any]:
        """An object for every pickled entry of ``data`` (SB3 then decodes none); :class:`AgentFileError` if one cannot be rebuilt."""
        cls = algorithm_class(self.recipe.algorithm)
        constructor = inspect.signature(cls).parameters
        rebuilt: dict[str, Any] = {}
        for key, entry in self.data.items():
            if not (isinstance(entry, dict) and ":serialized:" in entry):
                continue
            if key == "policy_class":
                rebuilt[key] = cls.policy_aliases["MlpPolicy"]
            elif key == "policy_kwargs":
                rebuilt[key] = policy_kwargs(self.recipe.policy)
            elif key in ("observation_space", "action_space"):
                rebuilt[key] = getattr(env, key)
            elif key in _REBUILT_BY_SETUP:
                rebuilt[key] = None
            elif key in constructor and key in self.recipe.hyperparameters:
                rebuilt[key] = self.recipe.hyperparameters[key]
            elif key in constructor and constructor[key].default is not inspect.Parameter.empty:
                rebuilt[key] = constructor[key].default
            else:
                raise AgentFileError(f"holds a pickled entry {key!r} that adaptsim cannot rebuild without running code from the file")
        return rebuilt


def read_agent(path: str | Path) -> AgentFile:
    """Read an agent file's manifest and ``data`` (JSON only; nothing is unpickled); :class:`AgentFileError` otherwise."""
    path = Path(path)
    content, data, manifest = _read_archive(path)
    recipe = _recipe_from_manifest(manifest) if manifest is not None else _recipe_from_data(data)
    return AgentFile(path, recipe, content, data)


def check_agent_fits(path: str | Path, env: Any, env_name: str) -> None:
    """Raise ``ValueError`` when the agent saved at ``path`` cannot be rebuilt or does not fit ``env`` (called
    ``env_name`` in the message)."""
    try:
        agent = read_agent(path)
        agent.custom_objects(env)
        observation_statistics(agent)
    except AgentFileError as error:
        raise ValueError(f"the agent file {str(path)!r} {error}") from None
    problem = space_mismatch(agent.recipe.observation, agent.recipe.action, env, env_name)
    if problem:
        raise ValueError(f"the agent in {str(path)!r} {problem}")


def check_saved_spaces(path: str | Path, config: EnvConfig) -> None:
    """Raise ``ValueError`` when the agent saved at ``path`` cannot be rebuilt or does not fit the environment of ``config``."""
    from rl_agents.envs.three_body import ThreeBodyEnv

    check_agent_fits(path, ThreeBodyEnv(config), f"env.observation {config.observation!r}")


def load_model(agent: AgentFile, spaces_of: Any, **load_kwargs: Any) -> Any:
    """The SB3 model of a read agent file with its weights as saved, its pickled entries rebuilt for the spaces of
    ``spaces_of`` (a Gymnasium or vectorised env); ``load_kwargs`` go to SB3's ``load`` (e.g. ``env`` to train it
    further). A training checkpoint's weights expect normalized observations (see :func:`load_saved`)."""
    problem = space_mismatch(agent.recipe.observation, agent.recipe.action, spaces_of)
    if problem:
        raise AgentFileError(problem)
    custom = agent.custom_objects(spaces_of)
    cls = algorithm_class(agent.recipe.algorithm)
    try:
        return cls.load(io.BytesIO(agent.content), device="cpu", custom_objects=custom, **load_kwargs)
    except Exception as error:  # SB3 and torch raise many types on a file whose parts do not fit together
        raise AgentFileError(f"cannot be rebuilt as a {agent.recipe.algorithm} agent ({first_line(error)})") from None


def observation_statistics(agent: AgentFile) -> ObservationNormalization | None:
    """The observation statistics in an agent file's manifest (None: it acts on raw observations as saved)."""
    size = int((agent.recipe.observation.get("shape") or [0])[0])
    try:
        return ObservationNormalization.from_manifest(agent.recipe.extra, size)
    except ValueError as error:
        raise AgentFileError(str(error)) from None


def load_saved(agent: AgentFile, spaces_of: Any) -> Any:
    """The SB3 model of a read agent file, acting on the environment's raw observations: the observation statistics of
    a training checkpoint are folded into its first layers (:mod:`rl_agents.normalization`)."""
    statistics = observation_statistics(agent)
    model = load_model(agent, spaces_of)
    if statistics is not None and not statistics.folded:
        try:
            statistics.fold_into(model.policy)
        except ValueError as error:
            raise AgentFileError(f"holds observation statistics that {agent.recipe.algorithm}'s network cannot take ({error})") from None
    return model


def load_agent(path: str | Path, config: EnvConfig) -> Any:
    """Load a trained agent, without unpickling anything, and check it against the environment ``config`` describes.

    Raises :class:`~adaptsim.errors.CaseError` (one line naming the file) when it cannot be read, rebuilt or
    does not fit.
    """
    from rl_agents.envs.three_body import ThreeBodyEnv

    try:
        return load_saved(read_agent(path), ThreeBodyEnv(config))
    except AgentFileError as error:
        raise CaseError(str(error), source=str(path)) from None
