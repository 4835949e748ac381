"""The PETSc solve of the Newton systems on one process: rigid-body modes, a patch test, the blade against PARDISO,
Krylov iterations flat in the mesh size, a failed solve cut by Newton (under mpiexec: tests/rom/test_parallel.py)."""

import numpy as np
import pytest

from adaptsim.errors import RunError
from rom.fem.assembly import FreeDofAssembler
from rom.fem.linear import LinearSolveFailure
from rom.fem.loads import surface_force
from rom.fem.petsc_solve import rigid_body_modes
from rom.fem.space import VectorSpace
from rom.geometry import box
from rom.hifi import MechanicalProblem
from rom.materials import MaterialState
from rom.parallel.layout import Layout
from rom.parallel.solver import distributed_solver

from .blade_training import FLAT_BOUND, FLAT_RATIO, first_newton_solve, train_blade
from .test_fem import NU, E, constrain, elastic

pytest.importorskip("petsc4py", reason="the petsc extra is not installed (bash tools/install_petsc.sh)")


def elastic_stiffness(space):
    n = space.n_points
    tangent = elastic().update(np.zeros((n, 6)), np.full(n, 300.0), 1.0, MaterialState.zeros(n)).tangent
    return FreeDofAssembler(space.dofs, np.ones(space.n_dofs, bool)).assemble(space.element_matrices(tangent))


def test_rigid_body_modes_store_no_strain_energy():
    mesh = box((1.0, 0.4, 0.3), (3, 2, 2), 2)
    stiffness = elastic_stiffness(VectorSpace(mesh))
    modes = rigid_body_modes(np.arange(3 * mesh.n_nodes) % 3, np.repeat(mesh.points, 3, axis=0))
    assert np.linalg.matrix_rank(modes) == 6
    assert np.array_equal(rigid_body_modes(np.arange(1, 3 * mesh.n_nodes) % 3, np.repeat(mesh.points, 3, axis=0)[1:]), modes[1:])
    assert np.abs(stiffness @ modes).max() < 1e-12 * abs(stiffness).max() * np.abs(modes).max()
    bending = np.zeros(3 * mesh.n_nodes)
    bending[2::3] = mesh.points[:, 0] ** 2  # not rigid: strained
    assert np.abs(stiffness @ bending).max() > 1e-3 * abs(stiffness).max()


def petsc_solver(problem, **options):
    return distributed_solver(problem, Layout.serial(problem.space), solver="petsc", **options)


def test_uniaxial_patch_test_is_exact_with_petsc():
    # symmetry planes constrain one component per node: rows are not whole nodes (block size 1)
    mesh = box((1.0, 0.2, 0.3), (5, 2, 2), 2)
    constrained = constrain(mesh, [(lambda x, k=k: np.isclose(x[:, k], 0.0), [k]) for k in range(3)])
    space = VectorSpace(mesh)
    traction = 1e8
    force = surface_force(space, mesh.faces_where(lambda x: np.isclose(x[:, 0], 1.0)), lambda x, n: np.tile([traction, 0, 0], (len(x), 1)))
    problem = MechanicalProblem(space, elastic(), constrained, lambda t: force, lambda t: np.full(mesh.n_nodes, 300.0))
    solver = petsc_solver(problem, tolerance=1e-12)
    result = solver.run(np.array([1.0]))
    x = mesh.points
    assert solver.solve.block_size == 1 and solver.solve.symmetric_solves >= 1 and solver.solve.unsymmetric_solves == 0
    assert np.allclose(result.displacement[0::3], traction / E * x[:, 0], rtol=0, atol=1e-10 * traction / E)
    assert np.allclose(result.displacement[1::3], -NU * traction / E * x[:, 1], rtol=0, atol=1e-10 * traction / E)
    assert np.abs(result.stress[:, 0] / traction - 1).max() < 1e-8


def test_blade_with_petsc_equals_pardiso():
    training = train_blade("[4,1,5]")
    solver = petsc_solver(training.problem)
    increments = []
    solver.run(training.times, lambda i, inc: increments.append(inc))
    u_direct = np.array([inc.displacement for inc in training.increments])
    u_petsc = np.array([inc.displacement for inc in increments])
    assert np.abs(u_petsc - u_direct).max() < 1e-8 * np.abs(u_direct).max()
    newton_direct = np.array([inc.newton_iterations for inc in training.increments])
    assert np.abs(np.array([inc.newton_iterations for inc in increments]) - newton_direct).max() <= 1
    assert solver.solve.block_size == 3  # the clamped root fixes whole nodes


def test_krylov_iterations_stay_flat_as_the_blade_mesh_is_refined():
    # GAMG with the rigid-body modes: 4.8x the dofs (5,100 -> 24,360 free), about the same CG iterations (measured
    # 158 and 172; PETSc's default GAMG took 800 and 837, and its convergence degrades on the blade's flat elements)
    iterations = []
    for divisions in ("[8,2,10]", "[14,3,20]"):
        solver, residual = first_newton_solve(divisions, solver="petsc")
        assert residual <= 1e-9
        iterations += solver.solve.iterations
    assert iterations[0] <= FLAT_BOUND and iterations[1] <= FLAT_RATIO * iterations[0], iterations


def test_a_krylov_solve_that_does_not_converge_is_reported_and_cuts_the_increment():
    training = train_blade("[3,1,3]")
    solver = petsc_solver(training.problem, max_cuts=1, petsc_options={"ksp_max_it": 2, "pc_type": "jacobi"})
    with pytest.raises(LinearSolveFailure, match="did not converge: DIVERGED_(MAX_IT|ITS) after 2 iterations"):
        solver.solve(
            training.problem.assembler.assemble(
                training.space.element_matrices(np.tile(np.eye(6) * 1e11, (training.space.n_points, 1, 1)))
            ),
            np.ones(int(training.problem.free.sum())),
        )
    with pytest.raises(RunError, match="after 1 increment cuts: PETSc cg \\+ jacobi did not converge"):
        solver.run(training.times)


def test_one_krylov_solver_kept_across_tangents_of_one_pattern_and_renewed_for_another():
    """Successive tangents of one pattern (a stiffer material each time) are solved by the same KSP, its GAMG
    interpolation kept, each to the Krylov tolerance against a direct solve; a new pattern gets a new solver."""
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    from rom.fem.petsc_solve import PetscSolve

    mesh = box((1.0, 0.4, 0.3), (4, 2, 2), 2)
    space = VectorSpace(mesh)
    free = np.ones(space.n_dofs, bool)
    free[:3] = free[3 * 5 : 3 * 5 + 3] = free[3 * 9 : 3 * 9 + 3] = False  # three nodes held: no rigid motion left
    stiffness = elastic_stiffness(space)[free][:, free]
    solve = PetscSolve.serial(free, np.repeat(mesh.points, 3, axis=0))
    rhs = np.random.default_rng(0).standard_normal(int(free.sum()))
    solvers = []  # (the objects themselves: an id could be reused once one is freed)
    for factor in (1.0, 1.5, 3.0):
        matrix = sp.csr_matrix(factor * stiffness)
        x = solve(matrix, rhs)
        direct = spla.spsolve(matrix.tocsc(), rhs)
        assert np.linalg.norm(x - direct) < 1e-7 * np.linalg.norm(direct)
        solvers.append(solve.krylov)
    assert all(ksp is solvers[0] for ksp in solvers) and len(solve.iterations) == 3
    shifted = sp.csr_matrix(stiffness + sp.eye(stiffness.shape[0]) * abs(stiffness).max())  # the diagonal is in the pattern
    pruned = sp.csr_matrix(sp.triu(stiffness, 1) + sp.triu(stiffness, 1).T + sp.diags(stiffness.diagonal()))
    pruned.data[np.abs(pruned.data) < 1e-3 * abs(stiffness).max()] = 0.0
    pruned.eliminate_zeros()  # another pattern
    for matrix in (shifted, pruned):
        x = solve(matrix, rhs)
        assert np.linalg.norm(matrix @ x - rhs) < 1e-8 * np.linalg.norm(rhs)
    assert solve.krylov is not solvers[0]


def test_one_krylov_solver_switches_its_method_with_the_symmetry_of_the_tangent():
    """Symmetric, unsymmetric, symmetric tangents of one pattern: one KSP throughout (a second would hold a second
    multigrid hierarchy), CG, flexible GMRES, CG again, each solution within the Krylov tolerance of a direct solve."""
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    from rom.fem.petsc_solve import PetscSolve

    mesh = box((1.0, 0.4, 0.3), (4, 2, 2), 2)
    space = VectorSpace(mesh)
    free = np.ones(space.n_dofs, bool)
    free[:3] = free[3 * 5 : 3 * 5 + 3] = free[3 * 9 : 3 * 9 + 3] = False
    stiffness = sp.csr_matrix(elastic_stiffness(space)[free][:, free])
    skew = stiffness.copy()
    skew.data = skew.data * (1.0 + 0.05 * np.sin(np.arange(skew.nnz)))  # the same pattern, unsymmetric by a few %
    solve = PetscSolve.serial(free, np.repeat(mesh.points, 3, axis=0))
    rhs = np.random.default_rng(1).standard_normal(stiffness.shape[0])
    methods, solvers = [], []
    for matrix in (stiffness, skew, stiffness):
        x = solve(matrix, rhs)
        direct = spla.spsolve(matrix.tocsc(), rhs)
        assert np.linalg.norm(x - direct) < 1e-7 * np.linalg.norm(direct)
        methods.append(solve.krylov.getType())
        solvers.append(solve.krylov)
    assert methods == ["cg", "fgmres", "cg"] and all(ksp is solvers[0] for ksp in solvers)
    assert (solve.symmetric_solves, solve.unsymmetric_solves) == (2, 1)


def test_the_asymmetry_of_a_tangent_is_its_relative_distance_to_its_transpose():
    """A tangent skewed by a few %, then with entries of one triangle dropped (the pattern no longer symmetric):
    ``||A - A^T||_F / ||A||_F`` as SciPy computes it from the whole matrix; a symmetric one 0."""
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    from rom.fem.petsc_solve import PetscSolve

    mesh = box((1.0, 0.4, 0.3), (3, 2, 2), 2)
    space = VectorSpace(mesh)
    free = np.ones(space.n_dofs, bool)
    stiffness = sp.csr_matrix(elastic_stiffness(space))
    solve = PetscSolve.serial(free, np.repeat(mesh.points, 3, axis=0))
    skew = stiffness.copy()
    skew.data = skew.data * (1.0 + 0.05 * np.sin(np.arange(skew.nnz)))
    pruned = sp.csr_matrix(sp.tril(skew, -1) + sp.diags(skew.diagonal()) + sp.triu(skew, 1).multiply(np.abs(sp.triu(skew, 1)) > 1e9))
    for matrix in (skew, pruned):
        matrix.sort_indices()
        truth = spla.norm(matrix - matrix.T) / spla.norm(matrix)
        assert solve.asymmetry(matrix, solve._assemble(matrix)) == pytest.approx(truth, rel=1e-12)
    assert 1e-3 < solve.asymmetry(skew, solve._assemble(skew)) < 0.1
    assert solve.asymmetry(stiffness, solve._assemble(stiffness)) < 1e-15


def test_a_case_option_petsc_reads_without_a_prefix_goes_to_the_global_database_during_the_setup():
    """``matptap_via`` (one of ``PARALLEL_GLOBAL_OPTIONS``) from the case is set without the solver's prefix while a
    solve sets up, replacing the default, and removed after; the other options keep the prefix; one process sets no
    global option of its own."""
    from rom.fem.petsc_solve import PARALLEL_GLOBAL_OPTIONS, PetscSolve

    mesh = box((1.0, 0.4, 0.3), (2, 1, 1), 2)
    positions = np.repeat(mesh.points, 3, axis=0)
    free = np.ones(3 * mesh.n_nodes, bool)
    assert "matptap_via" in PARALLEL_GLOBAL_OPTIONS and PetscSolve.serial(free, positions).global_options == {}
    solve = PetscSolve.serial(free, positions, {"matptap_via": "scalable", "ksp_rtol": 1e-9})
    assert solve.global_options == {"matptap_via": "scalable"} and "matptap_via" not in solve.options
    everywhere, prefixed = solve.PETSc.Options(), solve.PETSc.Options(solve.prefix)
    with solve._options():
        assert everywhere.getString("matptap_via") == "scalable" and not prefixed.hasName("matptap_via")
        assert prefixed.getReal("ksp_rtol") == 1e-9 and not everywhere.hasName("ksp_rtol")
    assert not everywhere.hasName("matptap_via") and not prefixed.hasName("ksp_rtol")
