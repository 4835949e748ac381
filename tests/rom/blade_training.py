"""A small blade solved by the full model: the training data of the ROM tests and the MPI check scripts."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adaptsim.cases import load_case

CASE = Path(__file__).resolve().parents[2] / "cases" / "blade_hifi.yaml"


@dataclass
class Training:
    case: object
    mesh: object
    space: object
    problem: object
    times: np.ndarray
    increments: list
    mass: object

    @property
    def displacements(self) -> np.ndarray:
        return np.array([inc.displacement for inc in self.increments]).T


def train_blade(divisions: str, *overrides: str) -> Training:
    """Run ``cases/blade_hifi.yaml`` with ``mesh.divisions=divisions`` and the overrides; keep every increment."""
    from rom.fem.space import mass_matrix
    from rom.hifi import HifiSolver
    from rom.problem import build_problem

    case = load_case(CASE, [f"mesh.divisions={divisions}", *overrides]).case
    mesh, space, problem = build_problem(case)
    times = case.loading.history.increment_times()
    increments = []
    HifiSolver(problem).run(times, lambda i, inc: increments.append(inc))
    return Training(case, mesh, space, problem, times, increments, mass_matrix(mesh))
