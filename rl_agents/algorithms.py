"""The reinforcement-learning algorithms a case can name: Stable-Baselines3's and sb3-contrib's, by action type.

SB3 is imported only when a class is asked for (it brings torch, a second of start-up for every command).
"""

from __future__ import annotations

import inspect
import math
from typing import Any

ALGORITHMS_SB3 = ("A2C", "DDPG", "DQN", "PPO", "SAC", "TD3")
ALGORITHMS_CONTRIB = ("ARS", "CrossQ", "QRDQN", "RecurrentPPO", "TQC", "TRPO", "MaskablePPO")
DISCRETE_ONLY = ("DQN", "QRDQN", "MaskablePPO")
CONTINUOUS_ONLY = ("DDPG", "SAC", "TD3", "TQC", "CrossQ")


def algorithm_class(name: str) -> Any:
    """The SB3 or sb3-contrib class of an algorithm name."""
    if name in ALGORITHMS_SB3:
        import stable_baselines3

        return getattr(stable_baselines3, name)
    import sb3_contrib

    return getattr(sb3_contrib, name)


#: Bounds of the hyper-parameters most algorithms take: (type, lowest, highest); a value outside is refused
#: before anything is built. ``buffer_size`` is further bounded by the memory the buffer would take.
HYPERPARAMETER_BOUNDS: dict[str, tuple[type, float, float]] = {
    "learning_rate": (float, 1e-12, 10.0),
    "gamma": (float, 0.0, 1.0),
    "tau": (float, 0.0, 1.0),
    "gae_lambda": (float, 0.0, 1.0),
    "clip_range": (float, 1e-6, 10.0),
    "ent_coef": (float, 0.0, 1e3),
    "vf_coef": (float, 0.0, 1e3),
    "max_grad_norm": (float, 1e-12, 1e6),
    "exploration_fraction": (float, 0.0, 1.0),
    "exploration_initial_eps": (float, 0.0, 1.0),
    "exploration_final_eps": (float, 0.0, 1.0),
    "buffer_size": (int, 1, 10_000_000),
    "batch_size": (int, 1, 1_000_000),
    "learning_starts": (int, 0, 100_000_000),
    "train_freq": (int, 1, 1_000_000),
    "gradient_steps": (int, -1, 10_000),
    "target_update_interval": (int, 1, 100_000_000),
    "n_steps": (int, 1, 1_000_000),
    "n_epochs": (int, 1, 10_000),
}
_SCALARS = (bool, int, float, str, type(None))


def check_hyperparameters(algorithm: str, hyperparameters: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming the first key the algorithm's constructor does not take, or a value of the
    wrong type or outside :data:`HYPERPARAMETER_BOUNDS` (other keys take numbers, booleans or strings)."""
    reserved = {"policy", "env", "seed", "policy_kwargs", "tensorboard_log", "verbose", "device", "_init_setup_model"}
    accepted = set(inspect.signature(algorithm_class(algorithm)).parameters) - reserved
    for key, value in hyperparameters.items():
        if key not in accepted:
            raise ValueError(f"hyperparameters: {algorithm} takes no {key!r}; it takes {', '.join(sorted(accepted))}")
        if key in HYPERPARAMETER_BOUNDS:
            kind, lowest, highest = HYPERPARAMETER_BOUNDS[key]
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if not numeric or (kind is int and not float(value).is_integer()):
                raise ValueError(f"hyperparameters.{key}: must be {'an integer' if kind is int else 'a number'}, got {value!r}")
            if not lowest <= value <= highest:
                raise ValueError(f"hyperparameters.{key}: must be between {lowest:g} and {highest:g}, got {value!r}")
        elif not isinstance(value, _SCALARS) or (isinstance(value, float) and not math.isfinite(value)):
            raise ValueError(f"hyperparameters.{key}: must be a finite number, a boolean or a string, got {type(value).__name__}")
