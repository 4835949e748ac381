"""Orthogonal initialisation and orthogonality regularisers of torch layers."""

import math
import sys

import pytest

torch = pytest.importorskip("torch")

from adaptsim.linalg.nn import (  # noqa: E402
    conv_orthogonality_penalty,
    conv_singular_values,
    delta_orthogonal_,
    dense_orthogonality_penalty,
    module_orthogonality_penalty,
    orthogonal_init_,
)
from tests import processes  # noqa: E402


def test_linalg_import_does_not_import_torch():
    code = "import sys, adaptsim.linalg, adaptsim.linalg.nn; print('torch' in sys.modules)"
    assert processes.run([sys.executable, "-c", code], timeout=120, check=True).stdout.strip() == "False"


@pytest.mark.parametrize("shape", [(4, 8, 3, 3), (8, 8, 3, 3), (6, 3, 5, 5), (3, 5, 1, 1)])
def test_delta_orthogonal_kernel_has_zero_penalty(shape):
    torch.manual_seed(0)
    kernel = delta_orthogonal_(torch.empty(shape, dtype=torch.float64))
    if shape[0] <= shape[1]:
        assert conv_orthogonality_penalty(kernel).item() < 1e-24
        singular_values = conv_singular_values(kernel, 12)
        assert torch.allclose(singular_values, torch.ones_like(singular_values), atol=1e-12)
    else:  # more outputs than inputs: rows cannot be orthonormal; the penalty counts the deficit exactly
        assert conv_orthogonality_penalty(kernel).item() == pytest.approx(shape[0] - shape[1], rel=1e-12)


def test_one_by_one_orthogonal_kernel():
    from adaptsim.linalg import random_orthogonal

    Q = torch.tensor(random_orthogonal(6, 1))
    kernel = Q.reshape(6, 6, 1, 1)
    assert conv_orthogonality_penalty(kernel).item() < 1e-26
    assert dense_orthogonality_penalty(Q).item() < 1e-26


def test_random_kernel_penalty_positive_and_gradient_flows():
    torch.manual_seed(1)
    kernel = torch.randn(4, 8, 3, 3, dtype=torch.float64, requires_grad=True)
    penalty = conv_orthogonality_penalty(kernel)
    assert penalty.item() > 1.0
    penalty.backward()
    assert kernel.grad is not None and torch.linalg.norm(kernel.grad).item() > 1.0
    # The gradient matches a finite difference.
    direction = torch.randn_like(kernel)
    step = 1e-6
    with torch.no_grad():
        finite = (conv_orthogonality_penalty(kernel + step * direction) - conv_orthogonality_penalty(kernel - step * direction)) / (
            2 * step
        )
    assert (kernel.grad * direction).sum().item() == pytest.approx(finite.item(), rel=1e-6)


def test_penalty_matches_explicit_formula_for_stride_one():
    """conv(K, K) at offset s is sum_c sum_t K[m, c, t] K[m', c, t + s]: check the centre and one corner tap."""
    torch.manual_seed(2)
    kernel = torch.randn(3, 5, 3, 3, dtype=torch.float64)
    flat = kernel.reshape(3, -1)
    centre = flat @ flat.T  # zero offset: Gram matrix of the flattened kernel
    corner = kernel[:, :, :1, :1].reshape(3, -1) @ kernel[:, :, 2:, 2:].reshape(3, -1).T  # offset (-2, -2)
    import torch.nn.functional as F

    correlation = F.conv2d(kernel, kernel, padding=2)
    assert torch.allclose(correlation[:, :, 2, 2], centre)
    assert torch.allclose(correlation[:, :, 0, 0].T, corner) or torch.allclose(correlation[:, :, 0, 0], corner)
    expected = (
        (
            correlation
            - torch.zeros_like(correlation).index_put_(
                (torch.arange(3), torch.arange(3), torch.tensor(2), torch.tensor(2)), torch.ones(3, dtype=torch.float64)
            )
        )
        ** 2
    ).sum()
    assert conv_orthogonality_penalty(kernel).item() == pytest.approx(expected.item(), rel=1e-14)


def test_minimising_penalty_makes_the_convolution_an_isometry():
    """Driving L_orth to zero makes every singular value of the circular convolution one (Wang et al. 2020)."""
    torch.manual_seed(3)
    kernel = torch.randn(3, 6, 3, 3, dtype=torch.float64, requires_grad=True)
    before = conv_singular_values(kernel, 16)
    assert (before.max() - before.min()).item() > 1.0
    optimizer = torch.optim.LBFGS([kernel], max_iter=200, tolerance_grad=1e-14, tolerance_change=1e-20, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = conv_orthogonality_penalty(kernel)
        loss.backward()
        return loss

    for _ in range(3):
        optimizer.step(closure)
    penalty = conv_orthogonality_penalty(kernel).item()
    after = conv_singular_values(kernel, 16)
    assert penalty < 1e-8
    # |sigma^2 - 1| <= sum over the 25 offsets of the tap errors <= 5 sqrt(L_orth)
    assert torch.max(torch.abs(after - 1.0)).item() < 5 * math.sqrt(penalty) + 1e-12
    assert torch.max(torch.abs(after - 1.0)).item() < 1e-3


def test_strided_penalty_uses_the_paper_padding():
    torch.manual_seed(4)
    kernel = torch.randn(4, 16, 3, 3, dtype=torch.float64)
    # stride 2, k = 3: padding floor(2/2) * 2 = 2, output 3 x 3 with centre (1, 1).
    import torch.nn.functional as F

    correlation = F.conv2d(kernel, kernel, stride=2, padding=2)
    target = torch.zeros_like(correlation)
    target[:, :, 1, 1] = torch.eye(4, dtype=torch.float64)
    assert conv_orthogonality_penalty(kernel, stride=2).item() == pytest.approx(((correlation - target) ** 2).sum().item(), rel=1e-14)
    assert conv_orthogonality_penalty(delta_orthogonal_(kernel.clone()), stride=2).item() < 1e-24


def test_orthogonal_init_of_a_network():
    torch.manual_seed(5)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(8 * 4 * 4, 64),
        torch.nn.Tanh(),
        torch.nn.Linear(64, 10),
    ).double()
    assert module_orthogonality_penalty(net).item() > 1.0
    orthogonal_init_(net)
    # The 3 -> 8 conv cannot be row-orthogonal: its centre tap has orthonormal columns, deficit 8 - 3.
    assert module_orthogonality_penalty(net).item() == pytest.approx(5.0, abs=1e-10)
    for layer in (net[3], net[5]):
        assert dense_orthogonality_penalty(layer.weight).item() < 1e-24
        assert torch.count_nonzero(layer.bias) == 0
    orthogonal_init_(net, gain=math.sqrt(2.0), conv="flat")
    W = net[5].weight
    assert torch.allclose(W @ W.T, 2.0 * torch.eye(10, dtype=torch.float64), atol=1e-12)
    with pytest.raises(ValueError, match="conv"):
        orthogonal_init_(net, conv="bogus")
