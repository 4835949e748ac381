"""Orthogonality for neural-network layers: orthogonal initialisation and regularisation.

torch is imported inside the functions, so importing :mod:`adaptsim.linalg` stays light.

The convolutional regulariser is the kernel orthogonality of Wang et al. (2020), "Orthogonal
Convolutional Neural Networks", CVPR::

    L_orth(K) = || conv(K, K, padding=P, stride=S) - I_r0 ||_F^2,   P = floor((k - 1) / S) S,

with ``I_r0`` the identity at the centre tap. For stride 1 and circular padding, ``L_orth = 0``
exactly when every singular value of the convolution operator equals one (row-orthogonal
kernels, Achour, Malgouyres & Mamalet 2022, JMLR 23).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

_CONV_NAMES = ("Conv1d", "Conv2d", "Conv3d")


def _orthogonal_layers(module: torch.nn.Module) -> list[Any]:
    import torch.nn as nn

    return [m for m in module.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d))]


def delta_orthogonal_(weight: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
    """Fill a convolution kernel ``(out, in, k...)`` in place with a delta-orthogonal kernel.

    Every tap is zero except the centre one, which is a random matrix with orthonormal rows
    (``out <= in``) or columns, times ``gain`` (Xiao et al. 2018, "Dynamical isometry and a
    mean field theory of CNNs"). Such a kernel has zero :func:`conv_orthogonality_penalty`.
    """
    import torch

    with torch.no_grad():
        weight.zero_()
        centre = tuple(size // 2 for size in weight.shape[2:])
        matrix = torch.empty(weight.shape[0], weight.shape[1], dtype=weight.dtype, device=weight.device)
        torch.nn.init.orthogonal_(matrix, gain=gain)
        weight[(slice(None), slice(None), *centre)] = matrix  # type: ignore[index]  # torch's stubs miss mixed slice/int tuples
    return weight


def orthogonal_init_(module: torch.nn.Module, gain: float = 1.0, conv: str = "delta") -> torch.nn.Module:
    """Orthogonally initialise every Linear and Conv layer of ``module`` in place; biases are zeroed.

    Parameters
    ----------
    module
        A layer or a network.
    gain
        Scale of the orthogonal matrices (e.g. ``sqrt(2)`` before ReLU).
    conv
        ``"delta"`` (centre tap orthogonal, zero elsewhere: an orthogonal convolution) or
        ``"flat"`` (``torch.nn.init.orthogonal_`` on the kernel flattened to ``(out, in * k...)``).

    Returns
    -------
    torch.nn.Module
        ``module``.
    """
    import torch

    if conv not in ("delta", "flat"):
        raise ValueError(f"conv must be 'delta' or 'flat', got {conv!r}")
    for layer in _orthogonal_layers(module):
        if type(layer).__name__ in _CONV_NAMES and conv == "delta":
            delta_orthogonal_(layer.weight, gain)
        else:
            torch.nn.init.orthogonal_(layer.weight, gain=gain)
        if layer.bias is not None:
            torch.nn.init.zeros_(layer.bias)
    return module


def dense_orthogonality_penalty(weight: torch.Tensor) -> torch.Tensor:
    """``|| W W^T - I ||_F^2`` for a wide matrix, ``|| W^T W - I ||_F^2`` for a tall one.

    Higher-dimensional weights are flattened to ``(out, -1)`` first.
    """
    import torch

    matrix = weight.reshape(weight.shape[0], -1)
    gram = matrix @ matrix.T if matrix.shape[0] <= matrix.shape[1] else matrix.T @ matrix
    return ((gram - torch.eye(gram.shape[0], dtype=gram.dtype, device=gram.device)) ** 2).sum()


def conv_orthogonality_penalty(kernel: torch.Tensor, stride: int | tuple[int, ...] = 1) -> torch.Tensor:
    """Kernel orthogonality regulariser of Wang et al. (2020) for a 1-, 2- or 3-D convolution.

    Parameters
    ----------
    kernel
        ``(out, in, k_1, ..., k_d)`` weights with ``d`` in 1..3 (square taps not required).
    stride
        The layer's stride (an int or one per spatial dimension).

    Returns
    -------
    torch.Tensor
        ``|| conv(K, K, padding=floor((k-1)/S) S, stride=S) - I_r0 ||_F^2`` (a scalar that
        carries gradients).
    """
    import torch
    import torch.nn.functional as F

    spatial = kernel.dim() - 2
    if spatial not in (1, 2, 3):
        raise ValueError(f"kernel must have 1 to 3 spatial dimensions, got shape {tuple(kernel.shape)}")
    strides = (stride,) * spatial if isinstance(stride, int) else tuple(stride)
    padding = tuple(((k - 1) // s) * s for k, s in zip(kernel.shape[2:], strides, strict=True))
    conv = (F.conv1d, F.conv2d, F.conv3d)[spatial - 1]
    # The output channels act as a batch of images with `in` channels, filtered by the kernel itself.
    correlation = conv(kernel, kernel, stride=strides, padding=padding)
    target = torch.zeros_like(correlation)
    centre = tuple(size // 2 for size in correlation.shape[2:])
    out_channels = kernel.shape[0]
    target[(slice(None), slice(None), *centre)] = torch.eye(  # type: ignore[index]  # torch's stubs miss mixed slice/int tuples
        out_channels, dtype=kernel.dtype, device=kernel.device
    )
    return ((correlation - target) ** 2).sum()


def module_orthogonality_penalty(module: torch.nn.Module) -> torch.Tensor:
    """Sum of the orthogonality regularisers of every Linear and Conv layer of ``module``.

    Add ``lambda * module_orthogonality_penalty(net)`` to a training loss to keep the layers near
    isometries.
    """
    import torch

    total = torch.zeros(())
    for layer in _orthogonal_layers(module):
        if type(layer).__name__ in _CONV_NAMES:
            if layer.groups != 1 or any(d != 1 for d in layer.dilation):
                raise ValueError(f"{layer}: grouped or dilated convolutions are not supported")
            total = total + conv_orthogonality_penalty(layer.weight, layer.stride)
        else:
            total = total + dense_orthogonality_penalty(layer.weight)
    return total


def parameters_orthogonality_penalty(parameters: Iterable[torch.Tensor]) -> torch.Tensor:
    """Sum of the orthogonality penalties of the 2-D (dense) and 4-D (convolution, stride 1) tensors among
    ``parameters``: the form an optimizer can apply, since it sees tensors rather than layers."""
    import torch

    total = torch.zeros(())
    for parameter in parameters:
        if parameter.dim() == 2:
            total = total + dense_orthogonality_penalty(parameter)
        elif parameter.dim() == 4:
            total = total + conv_orthogonality_penalty(parameter)
    return total


def conv_singular_values(kernel: torch.Tensor, image_size: int) -> torch.Tensor:
    """Singular values of a stride-1 2-D convolution with circular padding on ``image_size^2`` images.

    A circular convolution is block-diagonalised by the 2-D Fourier transform: its singular
    values are those of the ``(out, in)`` matrices of the kernel's transform at every frequency
    (Sedghi, Gupta & Long 2019, "The singular values of convolutional layers").
    """
    import torch

    if kernel.dim() != 4:
        raise ValueError("conv_singular_values expects a 2-D convolution kernel (out, in, k, k)")
    if image_size < max(kernel.shape[2:]):
        raise ValueError(f"image_size must be at least the kernel size {tuple(kernel.shape[2:])}")
    transform = torch.fft.fft2(kernel.detach(), s=(image_size, image_size))  # (out, in, n, n)
    blocks = transform.permute(2, 3, 0, 1).reshape(-1, kernel.shape[0], kernel.shape[1])
    return torch.linalg.svdvals(blocks).reshape(-1)


__all__ = [
    "conv_orthogonality_penalty",
    "conv_singular_values",
    "delta_orthogonal_",
    "dense_orthogonality_penalty",
    "orthogonal_init_",
    "module_orthogonality_penalty",
    "parameters_orthogonality_penalty",
]
