"""The problem of a blade case: mesh, space, clamped root, centrifugal load and temperature field.

Builds a :class:`rom.hifi.MechanicalProblem` from a validated :class:`rom.hifi_case.HifiCase`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from adaptsim.errors import CaseError, InputError
from rom.fem.loads import body_force, centrifugal_acceleration
from rom.fem.space import VectorSpace
from rom.hifi import HifiSolver, MechanicalProblem
from rom.hifi_case import HifiCase


def build_problem(case: HifiCase, mesh=None, space=None):
    """The mesh, space and :class:`rom.hifi.MechanicalProblem` of a case (``mesh`` and ``space``: an already built
    discretisation to reuse)."""

    mesh = mesh if mesh is not None else case.validated_mesh()
    space = space if space is not None else VectorSpace(mesh)
    material = case.material.build()
    loading = case.loading
    axis = "xyz".index(loading.clamp_axis)
    coordinate = mesh.points[:, axis]
    root = np.flatnonzero(coordinate <= coordinate.min() + 1e-9 * np.ptp(coordinate))
    constrained = np.zeros(space.n_dofs, dtype=bool)
    constrained[(3 * root[:, None] + np.arange(3)).ravel()] = True
    unit_force = unit_body_force(case, space)
    history = loading.history
    field = loading.temperature.build(mesh.points, material.reference_temperature, history)
    problem = MechanicalProblem(space, material, constrained, lambda t: history.factor(t) * unit_force, field)
    return mesh, space, problem


def unit_body_force(case: HifiCase, space) -> np.ndarray:
    """Nodal centrifugal forces at load factor 1."""

    rotation = case.loading.rotation
    acceleration = centrifugal_acceleration(space.points.reshape(-1, 3), rotation.speed, np.array(rotation.axis), np.array(rotation.origin))
    return body_force(space, case.material.density, acceleration)


def temperature_factory(case: HifiCase, mesh, space):
    """``factory(points)(t)``: temperatures at integration points from their elements' nodes only (mesh-independent)."""
    history, reference = case.loading.history, case.material.reference_temperature
    per_element = space.weights.shape[1]

    def factory(points: np.ndarray):
        elements, local = np.divmod(points, per_element)
        nodes = mesh.cells[elements]
        unique, inverse = np.unique(nodes, return_inverse=True)
        nodal = case.loading.temperature.build(mesh.points, reference, history, nodes=unique)
        shape = space.shape_values[local]
        inverse = inverse.reshape(nodes.shape)
        return lambda t: np.einsum("za,za->z", shape, nodal(t)[inverse])

    return factory


def loading_inputs(
    case: HifiCase, problem, mesh, space, layout
) -> tuple[HifiSolver, np.ndarray, Callable[[float], float], Callable[[np.ndarray], Callable[[float], np.ndarray]]]:
    """What an :class:`rom.online.AdaptiveROM` needs of a case's loading, in the order of its arguments: the full
    model's solver, the nodal forces at load factor 1, the load factor ``load(t)`` and the temperature factory."""
    return (
        case.solver.build(problem, layout),
        unit_body_force(case, space),
        case.loading.history.factor,
        temperature_factory(case, mesh, space),
    )


def check_loading_temperatures(cases: Sequence[tuple[tuple[str | int, ...], str, HifiCase]], mesh, space) -> None:
    """:func:`check_temperature_range` of every case ``(case field, label, case)`` (a case's changed loadings)
    before anything is run or written: a :class:`CaseError` under the loading's field, its label first."""
    for field, label, case in cases:
        _, _, problem = build_problem(case, mesh=mesh, space=space)
        try:
            check_temperature_range(problem, case.loading.history.increment_times())
        except (CaseError, InputError) as error:
            raise CaseError(f"{label}: {error.message}", field=field) from None


def check_temperature_range(problem, times: np.ndarray) -> tuple[float, float]:
    """Evaluate every material table at the extreme temperatures the history reaches (clear error if outside)."""
    extremes = [problem.temperature_at_points(t) for t in np.concatenate([[0.0], times])]
    low, high = float(min(e.min() for e in extremes)), float(max(e.max() for e in extremes))
    if low <= 0.0:
        raise CaseError(f"temperature reaches {low:g} K (must stay > 0 K)", field=("loading", "temperature"))
    for table in problem.material.tables:
        table(np.array([low, high]))
    return low, high
