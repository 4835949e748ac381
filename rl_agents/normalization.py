"""Observation normalization of a trained agent: the running mean and variance Stable-Baselines3's ``VecNormalize``
keeps while training, saved as JSON in the agent file's manifest and folded into the policy's first layers.

An agent trained on normalized observations ``(o - mean) / sqrt(var + epsilon)`` acts, once folded, on the raw
observations of the environment: each first layer ``W z + b`` of the networks becomes ``W' o + b'`` with
``W' = W diag(1 / s)`` and ``b' = b - W' mean`` (``s = sqrt(var + epsilon)``). Training runs without clipping of
the normalized observations, so the folded agent computes the same function (to float32 round-off). A training
checkpoint keeps its weights unfolded and the statistics beside them (a resume continues both); the final agent
file is folded, a plain SB3 agent that needs nothing from adaptsim to act.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The manifest entry holding the statistics.
MANIFEST_KEY = "observation_normalization"
#: Algorithms whose networks can take the statistics (actor-critic MLPs: the first layer of the actor's and of the
#: critic's network read the observation).
FOLDABLE_ALGORITHMS = ("A2C", "PPO", "TRPO")


@dataclass(frozen=True)
class ObservationNormalization:
    """Running statistics of the observations.

    Attributes
    ----------
    mean, var
        Per observation component.
    count
        Observations the statistics were computed from.
    epsilon
        Added to the variance.
    folded
        Whether the agent's weights already include them (the agent acts on raw observations).
    """

    mean: np.ndarray
    var: np.ndarray
    count: float
    epsilon: float
    folded: bool = False

    @classmethod
    def of(cls, vec_normalize: Any) -> ObservationNormalization:
        """The statistics of an SB3 ``VecNormalize`` (copied)."""
        rms = vec_normalize.obs_rms
        return cls(np.array(rms.mean, dtype=float), np.array(rms.var, dtype=float), float(rms.count), float(vec_normalize.epsilon))

    def restore(self, vec_normalize: Any) -> None:
        """Put the statistics back into an SB3 ``VecNormalize`` (a resumed training continues them)."""
        vec_normalize.obs_rms.mean = self.mean.copy()
        vec_normalize.obs_rms.var = self.var.copy()
        vec_normalize.obs_rms.count = self.count

    def __call__(self, observations: np.ndarray) -> np.ndarray:
        """Normalized observations (as ``VecNormalize`` computes them, unclipped)."""
        return (observations - self.mean) / np.sqrt(self.var + self.epsilon)

    def to_manifest(self) -> dict[str, Any]:
        """JSON of the statistics."""
        return {"mean": self.mean.tolist(), "var": self.var.tolist(), "count": self.count, "epsilon": self.epsilon, "folded": self.folded}

    @classmethod
    def from_manifest(cls, extra: dict[str, Any], size: int) -> ObservationNormalization | None:
        """The statistics in a manifest's entries (None when it has none); ``ValueError`` naming what is wrong."""
        entry = extra.get(MANIFEST_KEY)
        if entry is None:
            return None
        try:
            mean, var = (np.asarray(entry[key], dtype=float) for key in ("mean", "var"))
            count, epsilon, folded = float(entry["count"]), float(entry["epsilon"]), entry["folded"]
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"has an {MANIFEST_KEY} entry without numeric mean, var, count, epsilon and folded") from None
        if mean.shape != (size,) or var.shape != (size,):
            raise ValueError(f"has an {MANIFEST_KEY} of {mean.size} components for observations of {size}")
        if not (np.isfinite(mean).all() and np.isfinite(var).all() and (var >= 0).all() and epsilon > 0 and math.isfinite(count)):
            raise ValueError(f"has an {MANIFEST_KEY} with a non-finite mean, a negative variance or epsilon <= 0")
        if not isinstance(folded, bool):
            raise ValueError(f"has an {MANIFEST_KEY} whose 'folded' is not true or false")
        return cls(mean, var, count, epsilon, folded)

    def fold_into(self, policy: Any) -> ObservationNormalization:
        """Fold the statistics into the first layers of an actor-critic ``policy`` (in place); returns them marked folded."""
        import torch

        scale = torch.as_tensor(1.0 / np.sqrt(self.var + self.epsilon), dtype=torch.float32)
        shift = torch.as_tensor(self.mean, dtype=torch.float32)
        with torch.no_grad():
            for layer in first_layers(policy):
                layer.weight.mul_(scale)
                layer.bias.sub_(layer.weight @ shift)
        return ObservationNormalization(self.mean, self.var, self.count, self.epsilon, folded=True)


def first_layers(policy: Any) -> list[Any]:
    """The linear layers of an SB3 actor-critic MLP policy that read the observation (``ValueError`` for another)."""
    import torch
    from stable_baselines3.common.policies import ActorCriticPolicy
    from stable_baselines3.common.torch_layers import FlattenExtractor

    if not isinstance(policy, ActorCriticPolicy) or not isinstance(policy.features_extractor, FlattenExtractor):
        raise ValueError(f"observation statistics fold only into actor-critic MLP policies, not {type(policy).__name__}")
    if not policy.share_features_extractor:
        raise ValueError("observation statistics fold only into a policy whose actor and critic share the features extractor")
    layers = []
    for network, head in ((policy.mlp_extractor.policy_net, policy.action_net), (policy.mlp_extractor.value_net, policy.value_net)):
        linear = [module for module in network if isinstance(module, torch.nn.Linear)]
        layers.append(linear[0] if linear else head)
    return layers


def normalization_entry(model: Any) -> dict[str, Any]:
    """The manifest entry of the statistics of the ``VecNormalize`` a model in training reads through (none: ``{}``)."""
    normalizer = model.get_vec_normalize_env()
    return {} if normalizer is None else {MANIFEST_KEY: ObservationNormalization.of(normalizer).to_manifest()}
