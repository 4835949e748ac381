"""Optimizer options of the agents' networks: AdamP, and the orthogonality regulariser as an optimizer wrapper.

Stable-Baselines3 builds each policy's optimizer as ``optimizer_class(parameters, lr=..., **kwargs)``; the
regularised class returned by :func:`orthogonality_regularized` adds ``weight * grad(penalty)`` to the
gradients of every weight matrix (2-D: ``||W W^T - I||^2``; 4-D convolution kernels: Wang et al.'s
penalty, stride 1) just before each step, so any algorithm gets the regulariser without a custom loss.
"""

from __future__ import annotations

from typing import Any

import torch

from adaptsim.linalg.nn import parameters_orthogonality_penalty

OPTIMIZERS = ("adam", "adamp", "sgd")


def optimizer_class(name: str) -> type[torch.optim.Optimizer]:
    """The optimizer class of a name in :data:`OPTIMIZERS` (``adamp``: Heo et al. 2021, package ``adamp``)."""
    if name == "adam":
        return torch.optim.Adam
    if name == "sgd":
        return torch.optim.SGD
    if name == "adamp":
        from adamp import AdamP

        return AdamP
    raise ValueError(f"unknown optimizer {name!r}; one of {', '.join(OPTIMIZERS)}")


def orthogonality_regularized(base: type[torch.optim.Optimizer], weight: float) -> type[torch.optim.Optimizer]:
    """A subclass of ``base`` whose ``step`` first adds ``weight`` times the gradient of the orthogonality penalty."""

    class OrthogonalityRegularized(base):  # type: ignore[misc, valid-type]
        orthogonality_weight = weight

        def step(self, closure: Any = None) -> Any:
            with torch.enable_grad():
                penalty = parameters_orthogonality_penalty(p for group in self.param_groups for p in group["params"])
                if penalty.requires_grad:
                    gradients = torch.autograd.grad(self.orthogonality_weight * penalty, [p for p in self._matrices()], allow_unused=True)
                    for parameter, gradient in zip(self._matrices(), gradients, strict=True):
                        if gradient is not None:
                            parameter.grad = gradient if parameter.grad is None else parameter.grad + gradient
            return super().step(closure)

        def _matrices(self) -> list[torch.Tensor]:
            return [p for group in self.param_groups for p in group["params"] if p.dim() in (2, 4) and p.requires_grad]

    OrthogonalityRegularized.__name__ = f"OrthogonalityRegularized{base.__name__}"
    return OrthogonalityRegularized
