"""A small blade trained once per test session: the snapshots the ROM tests share."""

from dataclasses import dataclass

import numpy as np
import pytest

from adaptsim.cases import load_case


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


@pytest.fixture(scope="session")
def blade_training():
    from pathlib import Path

    from rom.case import build_problem
    from rom.fem.space import mass_matrix
    from rom.hifi import HifiSolver

    case_file = Path(__file__).resolve().parents[2] / "cases" / "blade_hifi.yaml"
    case = load_case(case_file, ["mesh.divisions=[6,2,8]"]).case
    mesh, space, problem = build_problem(case)
    times = case.loading.history.increment_times()
    increments = []
    HifiSolver(problem).run(times, lambda i, inc: increments.append(inc))
    return Training(case, mesh, space, problem, times, increments, mass_matrix(mesh))


@pytest.fixture(scope="session")
def hotter_blade(blade_training):
    """The same blade under a tip temperature outside the training range (1150 K instead of 1050 K)."""
    from pathlib import Path

    from rom.case import build_problem
    from rom.hifi import HifiSolver

    case_file = Path(__file__).resolve().parents[2] / "cases" / "blade_hifi.yaml"
    case = load_case(case_file, ["mesh.divisions=[6,2,8]", "loading.temperature.parameters.T_tip=1150"]).case
    mesh, space, problem = build_problem(case)
    increments = []
    HifiSolver(problem).run(blade_training.times, lambda i, inc: increments.append(inc))
    return Training(case, mesh, space, problem, blade_training.times, increments, blade_training.mass)
