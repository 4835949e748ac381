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
    coordinate = mesh.points[:, "xyz".index(case.loading.clamp_axis)]
    constrained = clamped(coordinate, coordinate.min(), coordinate.max())
    problem = MechanicalProblem(
        space, material, constrained, force_history(case, unit_body_force(case, space)), temperature_history(case, mesh.points, material)
    )
    return mesh, space, problem


def local_problem(case: HifiCase, layout) -> MechanicalProblem:
    """This rank's share of the problem of a case, built on its own elements alone (a layout of
    :meth:`rom.parallel.layout.Layout.of_block`): its rows of the clamped dofs and of the nodal forces (summed at
    the interface dofs with the neighbouring ranks), the temperatures at its nodes; no array of the whole mesh."""
    from rom.parallel.solver import CollectiveMaterial, DistributedSpace

    assert layout.subdomain is not None  # a block's layout knows its nodes' numbers in the whole mesh
    points = layout.space.mesh.points
    material = case.material.build()
    coordinate = points[:, "xyz".index(case.loading.clamp_axis)]
    low, high = layout.bounds(coordinate)
    return MechanicalProblem(
        DistributedSpace(layout),
        CollectiveMaterial(material, layout.comm),
        clamped(coordinate, low, high),
        force_history(case, layout.interface_sum(unit_body_force(case, layout.space))),
        case.loading.temperature.build_part(
            points, layout.subdomain.nodes, layout.n_dofs // 3, material.reference_temperature, case.loading.history
        ),
    )


def clamped(coordinate: np.ndarray, low: float, high: float) -> np.ndarray:
    """The dof mask of the nodes at the lowest ``coordinate`` (to 1e-9 of the mesh's extent ``low..high``) along the
    case's clamp axis: all three components of each."""
    return np.repeat(coordinate <= low + 1e-9 * (high - low), 3)


def force_history(case: HifiCase, unit_force: np.ndarray) -> Callable[[float], np.ndarray]:
    """The nodal forces at time ``t``: ``unit_force`` times the load factor."""
    history = case.loading.history
    return lambda t: history.factor(t) * unit_force


def temperature_history(case: HifiCase, points: np.ndarray, material) -> Callable[[float], np.ndarray]:
    """The temperatures at the nodes ``points`` at time ``t``."""
    return case.loading.temperature.build(points, material.reference_temperature, case.loading.history)


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


def check_temperature_range(problem, times: np.ndarray, layout=None) -> tuple[float, float]:
    """Evaluate every material table at the extreme temperatures the history reaches (clear error if outside);
    ``layout``: the ranks over which a distributed problem's temperatures are spread."""
    extremes = np.array([(field.min(), field.max()) for field in map(problem.temperature_at_points, np.concatenate([[0.0], times]))])
    low, high = (float(extremes.min()), float(extremes.max())) if layout is None else layout.bounds(extremes)
    if low <= 0.0:
        raise CaseError(f"temperature reaches {low:g} K (must stay > 0 K)", field=("loading", "temperature"))
    for table in problem.material.tables:
        table(np.array([low, high]))
    return low, high
