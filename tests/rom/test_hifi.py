"""The high-fidelity solver: creep of a cube against the closed form, Newton's quadratic convergence, cutting."""

import numpy as np
import pytest
from scipy.integrate import quad

from adaptsim.errors import RunError
from rom.fem.loads import surface_force
from rom.fem.space import VectorSpace
from rom.geometry import box
from rom.hifi import HifiSolver, MechanicalProblem
from rom.materials import TemperatureTable, ViscoplasticMaterial

E, NU, K, N, R0, C, D = 200e9, 0.3, 300e6, 10.0, 10e6, 1e9, 100.0
SIGMA = 150e6


def creep_problem():
    material = ViscoplasticMaterial(
        TemperatureTable.constant("young", E),
        TemperatureTable.constant("poisson", NU),
        norton_k=TemperatureTable.constant("k", K),
        norton_n=TemperatureTable.constant("n", N),
        yield_stress=TemperatureTable.constant("r0", R0),
        hardening_c=TemperatureTable.constant("c", C),
        hardening_d=TemperatureTable.constant("d", D),
    )
    mesh = box((1.0, 1.0, 1.0), (2, 1, 1), 2)
    space = VectorSpace(mesh)
    constrained = np.zeros(space.n_dofs, dtype=bool)
    for k in range(3):
        constrained[3 * mesh.nodes_where(lambda x, k=k: np.isclose(x[:, k], 0.0)) + k] = True
    end = mesh.faces_where(lambda x: np.isclose(x[:, 0], 1.0))
    force = surface_force(space, end, lambda x, n: np.tile([SIGMA, 0.0, 0.0], (len(x), 1)))
    return MechanicalProblem(space, material, constrained, lambda t: force if t > 0 else 0 * force, lambda t: np.full(mesh.n_nodes, 293.15))


def test_creep_of_a_cube_follows_the_closed_form_and_newton_converges_quadratically():
    solver = HifiSolver(creep_problem())
    times = np.concatenate([[1e-6], np.geomspace(1e-3, 1e4, 400)])
    records = []
    solver.run(
        times,
        lambda i, inc: records.append((inc.time, inc.state.cumulated_plasticity.copy(), inc.displacement.copy(), inc.residual_history)),
    )
    t, p, u, history = records[-1]
    assert np.ptp(p) < 1e-10 * p.mean()  # homogeneous
    exact_time = quad(lambda q: (K / (SIGMA - R0 - C / D * (1 - np.exp(-D * q)))) ** N, 0, p.mean(), epsabs=0, epsrel=1e-12, limit=200)[0]
    assert exact_time / t - 1 == pytest.approx(0.0, abs=3e-3)
    assert u[0::3].max() == pytest.approx(SIGMA / E + p.mean(), rel=1e-9)
    # a demanding increment: the residuals fall quadratically once in the basin of attraction
    hard = max(records, key=lambda r: len(r[3]))[3]
    assert len(hard) >= 5
    logs = np.log10(np.array(hard) / hard[0])
    assert logs[-1] < -9
    orders = np.diff(logs)[1:] / np.diff(logs)[:-1]  # e_{k+1} ~ e_k^order (the last step may sit at round-off)
    assert orders.max() > 1.8, hard


def test_global_tangent_matches_finite_differences_of_the_internal_forces():
    problem = creep_problem()
    space = problem.space
    rng = np.random.default_rng(1)
    u = rng.normal(scale=1e-3, size=space.n_dofs)
    temps = np.full(space.n_points, 293.15)
    state = HifiSolver(problem).initial().state
    result = problem.material.update(space.strain(u), temps, 0.1, state)
    from rom.fem.assembly import FreeDofAssembler

    matrix = FreeDofAssembler(space.dofs, np.ones(space.n_dofs, bool)).assemble(space.element_matrices(result.tangent))
    direction = rng.normal(size=space.n_dofs)
    h = 1e-9
    forces = [space.internal_force(problem.material.update(space.strain(u + s * h * direction), temps, 0.1, state).stress) for s in (1, -1)]
    numeric = (forces[0] - forces[1]) / (2 * h)
    assert np.linalg.norm(matrix @ direction - numeric) < 1e-5 * np.linalg.norm(numeric)


def test_increments_are_cut_when_newton_fails_and_a_hopeless_solve_raises():
    problem = creep_problem()
    result = HifiSolver(problem, max_iterations=5, max_cuts=10).run(np.array([1e-6, 100.0]))
    assert result.cuts >= 5
    fine = HifiSolver(problem).run(np.concatenate([[1e-6], np.geomspace(1e-3, 100.0, 300)]))
    assert result.state.cumulated_plasticity.mean() == pytest.approx(fine.state.cumulated_plasticity.mean(), rel=2e-3)
    with pytest.raises(RunError, match=r"failed at t = 1e-06 after 0 increment cuts: no convergence in 2 iterations"):
        HifiSolver(problem, max_iterations=2, max_cuts=0).run(np.array([1e-6, 100.0]))


def test_a_guess_at_the_solution_saves_the_newton_iterations_and_changes_nothing_else():
    solver = HifiSolver(creep_problem())
    start = solver.run(np.array([1e-6, 1.0]))
    plain = solver.step(start, 10.0)
    assert plain.newton_iterations >= 2
    exact = solver.step(start, 10.0, guess=plain.displacement)
    assert exact.newton_iterations == 0
    np.testing.assert_array_equal(exact.displacement, plain.displacement)
    near = solver.step(start, 10.0, guess=plain.displacement * (1 + 1e-3))  # as an enriching ROM's solution would be
    assert near.newton_iterations < plain.newton_iterations
    assert np.abs(near.displacement - plain.displacement).max() < 1e-7 * np.abs(plain.displacement).max()
    np.testing.assert_allclose(near.state.cumulated_plasticity, plain.state.cumulated_plasticity, rtol=1e-6)
    # a guess only for the whole increment: a cut increment's pieces start from the state before them
    cut = HifiSolver(creep_problem(), max_iterations=5, max_cuts=10)
    guessed, unguessed = cut.step(start, 100.0, guess=plain.displacement * 50), cut.step(start, 100.0)
    assert guessed.cuts == unguessed.cuts >= 1
    np.testing.assert_array_equal(guessed.displacement, unguessed.displacement)


def test_problems_on_one_space_share_its_assembler_per_set_of_free_dofs():
    from dataclasses import replace

    from rom.fem.assembly import FreeDofAssembler

    problem = creep_problem()
    again = replace(problem, external_force=lambda t: 0.0 * problem.external_force(t))  # another loading, same space
    assert again.assembler is problem.assembler
    clamped_more = problem.constrained.copy()
    clamped_more[np.flatnonzero(~clamped_more)[:5]] = True
    other = replace(problem, constrained=clamped_more)
    assert other.assembler is not problem.assembler and other.assembler.shape[0] == problem.assembler.shape[0] - 5
    elements = np.random.default_rng(0).standard_normal((problem.space.dofs.shape[0],) + (problem.space.dofs.shape[1],) * 2)
    for built in (problem, other):  # each assembles what a fresh assembler of its mask does
        fresh = FreeDofAssembler(built.space.dofs, built.free)
        assert abs(built.assembler.assemble(elements) - fresh.assemble(elements)).max() == 0.0
    assert replace(problem, space=VectorSpace(problem.space.mesh)).assembler is not problem.assembler  # another space
