"""The reinforcement-learning algorithms a case can name: Stable-Baselines3's and sb3-contrib's, by action type.

SB3 is imported only when a class is asked for (it brings torch, a second of start-up for every command).
"""

from __future__ import annotations

import inspect
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


def check_hyperparameters(algorithm: str, hyperparameters: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming the first key the algorithm's constructor does not take."""
    reserved = {"policy", "env", "seed", "policy_kwargs", "tensorboard_log", "verbose", "device", "_init_setup_model"}
    accepted = set(inspect.signature(algorithm_class(algorithm)).parameters) - reserved
    for key in hyperparameters:
        if key not in accepted:
            raise ValueError(f"hyperparameters: {algorithm} takes no {key!r}; it takes {', '.join(sorted(accepted))}")
