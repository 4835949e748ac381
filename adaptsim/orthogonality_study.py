"""The ``orthogonality`` case kind: loss of orthogonality of QR methods against the condition number.

Builds matrices ``A = U diag(s) V^T`` with Haar-random ``U``, ``V`` and singular values
log-spaced from 1 to ``1 / cond``, orthonormalises them with each method and records the
orthogonality defect ``||Q^T Q - I||_F`` and the relative residual ``||A - Q R|| / ||A||``.
Classical results to expect: modified Gram-Schmidt loses orthogonality like ``u cond(A)``,
with reorthogonalisation it stays at ``O(u)``; CholeskyQR2 stays at ``O(u)`` up to
``cond ~ 1e8`` and the shifted CholeskyQR3 fallback beyond; Householder (LAPACK) is the reference.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
from pydantic import Field, field_validator, model_validator

from adaptsim.cases import CaseModel, KindSpec, RunContext
from adaptsim.memory import check_memory

Method = Literal["mgs", "mgs_reorthogonalized", "cholesky_qr2", "householder"]


class OrthogonalityCase(CaseModel):
    """Orthogonality study on synthetic matrices of prescribed condition number."""

    kind: Literal["orthogonality"]
    rows: int = Field(400, ge=2, le=100_000, description="Rows m of each test matrix.")
    columns: int = Field(40, ge=1, le=5_000, description="Columns n of each test matrix (n <= m).")
    condition_numbers: list[float] = Field(
        default_factory=lambda: [10.0**k for k in range(0, 15, 2)],
        min_length=1,
        max_length=100,
        description="Condition numbers of the test matrices (each in [1, 1e20]).",
    )
    methods: list[Method] = Field(
        default_factory=lambda: list(get_args(Method)),
        min_length=1,
        description="QR methods to compare.",
    )

    @field_validator("condition_numbers")
    @classmethod
    def _condition_range(cls, value: list[float]) -> list[float]:
        if any(not 1.0 <= c <= 1e20 for c in value):
            raise ValueError("every condition number must be in [1, 1e20] (beyond 1/eps = 4.5e15 all are numerically singular)")
        return value

    @model_validator(mode="after")
    def _check_shape(self) -> OrthogonalityCase:
        if self.columns > self.rows:
            raise ValueError(f"columns ({self.columns}) must not exceed rows ({self.rows})")
        check_memory(8.0 * (self.rows**2 + 4 * self.rows * self.columns), f"the {self.rows} x {self.rows} random orthogonal factors")
        return self


KIND = KindSpec(
    name="orthogonality",
    model=OrthogonalityCase,
    runner="adaptsim.orthogonality_study:run",
    summary="Loss of orthogonality of Gram-Schmidt, CholeskyQR2 and Householder QR against cond(A).",
    smoke_overrides=("rows=60", "columns=8", "condition_numbers=[1.0, 1.0e+8]"),
    citations="adaptsim.orthogonality_study:citations",
)


def citations(case: OrthogonalityCase) -> list[str]:
    """Reference keys of the compared methods and of the random test matrices."""
    keys = {
        "mgs": "reorthogonalization",
        "mgs_reorthogonalized": "reorthogonalization",
        "cholesky_qr2": "cholesky_qr2",
        "householder": "householder",
    }
    return [*(keys[method] for method in case.methods), "random_orthogonal"]


def matrix_with_condition(rows: int, columns: int, condition: float, rng: np.random.Generator) -> np.ndarray:
    """``U diag(s) V^T`` with Haar-random orthogonal factors and ``s`` log-spaced in ``[1/condition, 1]``."""
    from adaptsim.linalg import random_orthogonal

    U = random_orthogonal(rows, rng)[:, :columns]
    V = random_orthogonal(columns, rng)
    s = np.logspace(0.0, -np.log10(condition), columns)
    return (U * s) @ V.T


def orthonormalize(A: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    """``(Q, R)`` of ``A`` by one of the study's methods."""
    from adaptsim.linalg import cholesky_qr2, gram_schmidt

    if method == "householder":
        return np.linalg.qr(A)
    if method == "cholesky_qr2":
        return cholesky_qr2(A)
    result = gram_schmidt(A, reorthogonalize=method == "mgs_reorthogonalized", drop_tol=0.0)
    return result.Q, result.R


def run(case: OrthogonalityCase, ctx: RunContext) -> None:
    """Run the study: HDF5 table of defects and residuals, and a log-log plot."""
    import matplotlib.pyplot as plt

    from adaptsim.linalg import orthogonality_defect
    from adaptsim.progress import log, track

    rng = np.random.default_rng(case.seed)
    conds = np.asarray(case.condition_numbers, dtype=float)
    defect = np.full((len(case.methods), conds.size), np.nan)
    residual = np.full_like(defect, np.nan)
    failed = np.zeros(defect.shape, dtype=bool)
    for j, condition in enumerate(track(conds, "orthogonalising")):
        A = matrix_with_condition(case.rows, case.columns, condition, rng)
        for i, method in enumerate(case.methods):
            try:
                Q, R = orthonormalize(A, method)
            except np.linalg.LinAlgError as error:
                failed[i, j] = True
                log(f"[yellow]{method} failed at condition number {condition:.1e}: {error}[/]")
                continue
            defect[i, j] = orthogonality_defect(Q)
            residual[i, j] = np.linalg.norm(A - Q @ R) / np.linalg.norm(A)
            if not np.isfinite(defect[i, j]) or not np.isfinite(residual[i, j]):
                failed[i, j] = True
                log(f"[yellow]{method} gave non-finite values at condition number {condition:.1e}[/]")

    figure, axis = plt.subplots(figsize=(6, 4))
    for i, method in enumerate(case.methods):
        label = method + (f" (failed at {failed[i].sum()} of {conds.size})" if failed[i].any() else "")
        (line,) = axis.loglog(conds, np.maximum(defect[i], 1e-17), "o-", label=label)
        if failed[i].any():  # a failure is drawn at the top of the plot, not left out
            axis.loglog(conds[failed[i]], np.ones(failed[i].sum()), "x", color=line.get_color(), ms=10, mew=2)
    axis.loglog(conds, np.finfo(float).eps * conds, "k:", label=r"$u\,\kappa(A)$")
    axis.set_xlabel(r"condition number $\kappa(A)$")
    axis.set_ylabel(r"$\|Q^TQ - I\|_F$")
    axis.set_title(f"Loss of orthogonality, {case.rows} x {case.columns}")
    axis.legend()
    axis.grid(True, which="major", alpha=0.3)
    ctx.save_figure(figure, "orthogonality.png")

    worst = {m: float(np.nanmax(defect[i])) if not failed[i].all() else float("nan") for i, m in enumerate(case.methods)}
    ctx.write_results(
        {
            "condition_numbers": conds,
            "methods": np.asarray(case.methods),
            "orthogonality_defect": defect,
            "relative_residual": residual,
            "failed": failed,
        },
        attrs={
            "/": {f"max_defect_{m}": v for m, v in worst.items()}
            | {f"failures_{m}": int(failed[i].sum()) for i, m in enumerate(case.methods)}
        },
    )
    for i, (method, value) in enumerate(worst.items()):
        failures = f"; [yellow]FAILED on {failed[i].sum()} of {conds.size} matrices[/]" if failed[i].any() else ""
        log(f"{method:>22}: worst orthogonality defect {value:.2e} where it ran{failures}")
