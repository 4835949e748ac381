"""The policy network and optimizer of an agent: the case's ``policy:`` options and the SB3 ``policy_kwargs`` they
build (the same options rebuild a saved agent's network, see :mod:`rl_agents.saved_agents`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from adaptsim.cases import StrictModel

MAX_LAYER_WIDTH = 4096
MAX_LAYERS = 16
ACTIVATIONS = ("relu", "tanh")


class PolicyOptions(StrictModel):
    """Network and optimizer of the policy, with the shared orthogonality utilities."""

    net_arch: list[int] = Field(
        default_factory=lambda: [64, 64], max_length=MAX_LAYERS, description=f"Hidden layer sizes (at most {MAX_LAYERS} layers)."
    )
    activation: Literal["relu", "tanh"] = Field("relu", description="Activation of the hidden layers.")
    orthogonal_init: bool = Field(False, description="Orthogonal initialisation of every layer (adaptsim.linalg.nn).")
    orthogonality_weight: float = Field(
        0.0, ge=0.0, le=1e3, description="Weight of the orthogonality regulariser added at every optimizer step."
    )
    optimizer: Literal["adam", "adamp", "sgd"] = Field("adam", description="Optimizer (`adamp`: Heo et al. 2021).")

    @field_validator("net_arch")
    @classmethod
    def _layer_sizes(cls, value: list[int]) -> list[int]:
        if any(size < 1 or size > MAX_LAYER_WIDTH for size in value):
            raise ValueError(f"layer sizes must be between 1 and {MAX_LAYER_WIDTH}")
        return value


def policy_kwargs(options: PolicyOptions) -> dict[str, Any]:
    """SB3 ``policy_kwargs`` (network, activation, optimizer class) of the policy options."""
    import torch

    from rl_agents.optimizers import optimizer_class, orthogonality_regularized

    optimizer = optimizer_class(options.optimizer)
    if options.orthogonality_weight > 0.0:
        optimizer = orthogonality_regularized(optimizer, options.orthogonality_weight)
    activation = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}[options.activation]
    return {"net_arch": list(options.net_arch), "activation_fn": activation, "optimizer_class": optimizer}
