"""Finite elements against closed forms (patch, Lame cylinder, rotating disk, free thermal expansion) and scikit-fem."""

from math import factorial

import numpy as np
import pytest

from rom.fem import quadrature
from rom.fem.elements import tetrahedron
from rom.fem.loads import body_force, centrifugal_acceleration, surface_force
from rom.fem.space import VectorSpace
from rom.geometry import box, cylinder_sector
from rom.hifi import HifiSolver, MechanicalProblem
from rom.materials import ElasticMaterial, MaterialState, TemperatureTable

E, NU = 200e9, 0.3


def elastic(expansion=0.0, density=0.0):
    return ElasticMaterial(
        TemperatureTable.constant("young", E),
        TemperatureTable.constant("poisson", NU),
        TemperatureTable.constant("expansion", expansion),
        reference_temperature=300.0,
        density=density,
    )


def constrain(mesh, rules):
    """Mask of dofs: rules = [(predicate on points, components)]."""
    mask = np.zeros(3 * mesh.n_nodes, dtype=bool)
    for predicate, components in rules:
        nodes = mesh.nodes_where(predicate)
        for c in components:
            mask[3 * nodes + c] = True
    return mask


def solve(mesh, material, constrained, force, temperature=None):
    space = VectorSpace(mesh)
    temps = temperature if temperature is not None else np.full(mesh.n_nodes, 300.0)
    problem = MechanicalProblem(space, material, constrained, lambda t: force, lambda t: temps)
    return space, HifiSolver(problem, tolerance=1e-12).run(np.array([1.0]))


@pytest.mark.parametrize("degree", [1, 2, 3, 4, 5])
def test_tetrahedron_quadrature_is_exact_to_its_degree(degree):
    rule = quadrature.tetrahedron(degree)
    for a in range(degree + 1):
        for b in range(degree + 1 - a):
            for c in range(degree + 1 - a - b):
                exact = factorial(a) * factorial(b) * factorial(c) / factorial(a + b + c + 3)
                value = np.sum(rule.weights * rule.points[:, 0] ** a * rule.points[:, 1] ** b * rule.points[:, 2] ** c)
                assert value == pytest.approx(exact, rel=1e-13, abs=1e-16)


@pytest.mark.parametrize("order", [1, 2])
def test_shape_functions_partition_unity_and_gradients_match_differences(order):
    element = tetrahedron(order)
    points = np.random.default_rng(0).dirichlet(np.ones(4), size=7)[:, 1:]
    assert np.allclose(element.shape(points).sum(axis=1), 1.0)
    h = 1e-6
    for k in range(3):
        step = np.zeros(3)
        step[k] = h
        numeric = (element.shape(points + step) - element.shape(points - step)) / (2 * h)
        assert np.allclose(element.gradients(points)[:, :, k], numeric, atol=1e-8)


@pytest.mark.parametrize("order", [1, 2])
def test_uniaxial_patch_test_is_exact(order):
    mesh = box((1.0, 0.2, 0.3), (5, 2, 2), order)
    constrained = constrain(mesh, [(lambda x, k=k: np.isclose(x[:, k], 0.0), [k]) for k in range(3)])
    space = VectorSpace(mesh)
    traction = 1e8
    force = surface_force(space, mesh.faces_where(lambda x: np.isclose(x[:, 0], 1.0)), lambda x, n: np.tile([traction, 0, 0], (len(x), 1)))
    assert force.sum() == pytest.approx(traction * 0.2 * 0.3, rel=1e-13)
    _, result = solve(mesh, elastic(), constrained, force)
    x = mesh.points
    assert np.allclose(result.displacement[0::3], traction / E * x[:, 0], rtol=0, atol=1e-12 * traction / E)
    assert np.allclose(result.displacement[1::3], -NU * traction / E * x[:, 1], rtol=0, atol=1e-12 * traction / E)
    assert np.abs(result.stress[:, 0] / traction - 1).max() < 1e-9
    assert np.abs(result.stress[:, 1:]).max() < 1e-9 * traction


def lame_error(divisions):
    a, b, p = 1.0, 2.0, 1e8
    mesh = cylinder_sector(a, b, 0.25, divisions)
    constrained = constrain(
        mesh,
        [
            (lambda x: np.isclose(x[:, 1], 0.0, atol=1e-12), [1]),
            (lambda x: np.isclose(x[:, 0], 0.0, atol=1e-12), [0]),
            (lambda x: np.ones(len(x), bool), [2]),
        ],
    )
    space = VectorSpace(mesh)
    inner = mesh.faces_where(lambda x: np.isclose(np.hypot(x[:, 0], x[:, 1]), a))
    force = surface_force(space, inner, lambda x, n: -p * n)
    _, result = solve(mesh, elastic(), constrained, force)
    big_a, big_b = p * a**2 / (b**2 - a**2), p * a**2 * b**2 / (b**2 - a**2)
    fine = VectorSpace(mesh, degree=5)
    u = np.einsum("qa,eai->eqi", fine.shape_values, result.displacement.reshape(-1, 3)[mesh.cells]).reshape(-1, 3)
    x = fine.points.reshape(-1, 3)
    r = np.hypot(x[:, 0], x[:, 1])
    ur = (1 + NU) / E * ((1 - 2 * NU) * big_a * r + big_b / r)
    exact = np.column_stack([ur * x[:, 0] / r, ur * x[:, 1] / r, np.zeros_like(r)])
    w = fine.weights.ravel()
    return np.sqrt(np.sum(w * ((u - exact) ** 2).sum(axis=1)) / np.sum(w * (exact**2).sum(axis=1)))


def test_lame_cylinder_converges_at_third_order():
    errors = [lame_error((n, n, 1)) for n in (2, 4, 8)]
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert errors[-1] < 1e-4
    assert np.all(rates > 2.7), (errors, rates)


def test_rotating_annular_disk_matches_plane_stress_solution():
    a, b, thickness, rho, omega = 0.2, 1.0, 0.02, 8000.0, 100.0
    mesh = cylinder_sector(a, b, thickness / 2, (12, 12, 1))
    constrained = constrain(
        mesh,
        [
            (lambda x: np.isclose(x[:, 1], 0.0, atol=1e-12), [1]),
            (lambda x: np.isclose(x[:, 0], 0.0, atol=1e-12), [0]),
            (lambda x: np.isclose(x[:, 2], 0.0), [2]),
        ],
    )
    space = VectorSpace(mesh)
    force = body_force(space, rho, centrifugal_acceleration(space.points.reshape(-1, 3), omega, np.array([0, 0, 1.0]), np.zeros(3)))
    _, result = solve(mesh, elastic(density=rho), constrained, force)
    x = space.points.reshape(-1, 3)
    r = np.hypot(x[:, 0], x[:, 1])
    c, s = x[:, 0] / r, x[:, 1] / r
    from rom.materials.tensors import to_matrix

    sigma = to_matrix(result.stress)
    radial = np.einsum("ni,nij,nj->n", np.column_stack([c, s, 0 * c]), sigma, np.column_stack([c, s, 0 * c]))
    hoop = np.einsum("ni,nij,nj->n", np.column_stack([-s, c, 0 * c]), sigma, np.column_stack([-s, c, 0 * c]))
    k = (3 + NU) / 8 * rho * omega**2
    exact_radial = k * (a**2 + b**2 - a**2 * b**2 / r**2 - r**2)
    exact_hoop = k * (a**2 + b**2 + a**2 * b**2 / r**2 - (1 + 3 * NU) / (3 + NU) * r**2)
    scale = exact_hoop.max()
    w = space.weights.ravel()

    def rms(e):
        return np.sqrt(np.sum(w * e**2) / np.sum(w))

    print(rms(hoop - exact_hoop) / scale, rms(radial - exact_radial) / scale)
    assert rms(hoop - exact_hoop) < 2e-3 * scale and rms(radial - exact_radial) < 2e-3 * scale
    assert np.abs(hoop - exact_hoop).max() < 0.015 * scale and np.abs(radial - exact_radial).max() < 0.015 * scale


@pytest.mark.parametrize("gradient", [(0.0, 0.0, 0.0), (200.0, 100.0, -50.0)], ids=["uniform", "linear"])
def test_free_thermal_expansion_is_stress_free(gradient):
    mesh = box((1.0, 1.0, 1.0), (3, 3, 3), 2)
    x = mesh.points
    temperature = 500.0 + x @ np.array(gradient)
    rules = [
        (lambda p: np.all(np.isclose(p, 0.0), axis=1), [0, 1, 2]),
        (lambda p: np.isclose(p[:, 0], 1.0) & np.isclose(p[:, 1], 0.0) & np.isclose(p[:, 2], 0.0), [1, 2]),
        (lambda p: np.isclose(p[:, 0], 0.0) & np.isclose(p[:, 1], 1.0) & np.isclose(p[:, 2], 0.0), [2]),
    ]
    alpha = 2e-5
    space, result = solve(mesh, elastic(expansion=alpha), constrain(mesh, rules), np.zeros(3 * mesh.n_nodes), temperature)
    thermal_stress_scale = E * alpha * 200.0  # the temperature differences are >= 200 K
    assert np.abs(result.stress).max() < 1e-8 * thermal_stress_scale
    strain = space.strain(result.displacement)
    t_points = space.at_points(temperature)
    assert np.allclose(strain[:, :3], (alpha * (t_points - 300.0))[:, None], rtol=1e-9, atol=1e-15)
    assert np.abs(strain[:, 3:]).max() < 1e-12


def test_linear_elastic_stiffness_and_solution_match_scikit_fem():
    skfem = pytest.importorskip("skfem")
    from skfem.models.elasticity import lame_parameters, linear_elasticity

    from rom.fem.assembly import FreeDofAssembler

    mesh = box((1.0, 0.5, 0.4), (4, 2, 2), 2)
    vertices, corner_cells = np.unique(mesh.cells[:, :4], return_inverse=True)
    reference = skfem.MeshTet(np.ascontiguousarray(mesh.points[vertices].T), np.ascontiguousarray(corner_cells.reshape(-1, 4).T))
    basis = skfem.Basis(reference, skfem.ElementVector(skfem.ElementTetP2()), intorder=2)
    lam, mu = lame_parameters(E, NU)
    k_ref = skfem.asm(linear_elasticity(lam, mu), basis)
    space = VectorSpace(mesh)
    n = space.n_points
    tangent = elastic().update(np.zeros((n, 6)), np.full(n, 300.0), 1.0, MaterialState.zeros(n)).tangent
    k_ours = FreeDofAssembler(space.dofs, np.ones(space.n_dofs, bool)).assemble(space.element_matrices(tangent))

    # a quadratic displacement field, interpolated exactly by both spaces: same strain energy
    def field(p):
        return np.stack([1e-3 * p[0] ** 2 + 2e-4 * p[1] * p[2], -5e-4 * p[0] * p[1], 3e-4 * p[2] ** 2 + 1e-4 * p[0]])

    component = np.empty(basis.N, dtype=int)
    for k in range(3):
        component[basis.nodal_dofs[k]] = k
        component[basis.edge_dofs[k]] = k
    u_ref = field(basis.doflocs)[component, np.arange(basis.N)]
    u_ours = field(mesh.points.T).T.ravel()
    assert u_ours @ (k_ours @ u_ours) == pytest.approx(u_ref @ (k_ref @ u_ref), rel=1e-10)

    # the same clamped beam under gravity: the vertex displacements agree
    clamped = basis.get_dofs(lambda p: np.isclose(p[0], 0.0)).all()
    f_ref = skfem.asm(skfem.LinearForm(lambda v, w: -8000.0 * 9.81 * v[2]), basis)
    x_ref = skfem.solve(*skfem.condense(k_ref, f_ref, D=clamped))
    constrained = constrain(mesh, [(lambda p: np.isclose(p[:, 0], 0.0), [0, 1, 2])])
    force = body_force(space, 8000.0, np.tile([0.0, 0.0, -9.81], (n, 1)))
    _, result = solve(mesh, elastic(), constrained, force)
    ours = result.displacement.reshape(-1, 3)[vertices]
    theirs = np.stack([x_ref[basis.nodal_dofs[k]] for k in range(3)], axis=1)
    assert np.abs(theirs).max() > 1e-9
    assert np.abs(ours - theirs).max() < 1e-8 * np.abs(theirs).max()


def _convection_diffusion(n: int, convection: float):
    """A 2D five-point Laplacian (SPD) plus a centred convection term (unsymmetric by ``convection``)."""
    import scipy.sparse as sp

    line = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n))
    skew = sp.diags([-1.0, 1.0], [-1, 1], shape=(n, n))
    eye = sp.identity(n)
    return (sp.kron(line, eye) + sp.kron(eye, line) + 0.01 * sp.identity(n * n) + convection * sp.kron(skew, eye)).tocsr()


def test_symmetric_pattern_measures_asymmetry_and_takes_the_upper_triangle():
    import scipy.sparse as sp

    from rom.fem.linear import SymmetricPattern

    matrix = _convection_diffusion(7, 0.3)
    pattern = SymmetricPattern(matrix)
    naive = sp.linalg.norm(matrix - matrix.T) / sp.linalg.norm(matrix)
    assert pattern.asymmetry(matrix) == pytest.approx(naive, rel=1e-12) and naive > 0.1
    assert abs(pattern.upper_triangle(matrix) - sp.triu(matrix)).max() == 0.0
    assert pattern.asymmetry(_convection_diffusion(7, 0.0)) == 0.0
    assert pattern.matches(_convection_diffusion(7, 0.0)) and not pattern.matches(_convection_diffusion(6, 0.0))
    assert SymmetricPattern(sp.csr_matrix(np.triu(np.ones((4, 4))))).asymmetry(sp.csr_matrix(np.triu(np.ones((4, 4))))) == np.inf


def test_pardiso_factorises_symmetric_tangents_as_symmetric():
    import scipy.sparse.linalg as sla

    from rom.fem.linear import PardisoSolve, pardiso_available

    if not pardiso_available():
        pytest.skip("pypardiso (MKL) is not installed on this platform")
    solve = PardisoSolve()
    rhs = np.random.default_rng(0).standard_normal(400)
    for convection, symmetric, unsymmetric in [(0.0, 1, 0), (1e-8, 2, 0), (0.3, 2, 1), (0.0, 3, 1)]:  # switching back and forth
        matrix = _convection_diffusion(20, convection)
        exact = sla.spsolve(matrix.tocsc(), rhs)
        # a symmetric factorisation of a matrix asymmetric by ~1e-8 solves it to that relative level
        assert np.linalg.norm(solve(matrix, rhs) - exact) <= 1e-6 * np.linalg.norm(exact)
        assert (solve.symmetric_solves, solve.unsymmetric_solves) == (symmetric, unsymmetric)
    symmetric = _convection_diffusion(20, 0.0)  # an exactly symmetric one: as exact as the unsymmetric solve
    exact = sla.spsolve(symmetric.tocsc(), rhs)
    assert np.linalg.norm(solve(symmetric, rhs) - exact) <= 1e-10 * np.linalg.norm(exact)
    assert PardisoSolve.peak_memory() > 400 * 8  # PARDISO's own statistics, in bytes


def test_pardiso_analyses_a_pattern_once_and_again_when_another_solver_or_pattern_came_between():
    import scipy.sparse.linalg as sla

    from rom.fem.linear import SYMMETRIC, PardisoSolve, pardiso_available

    if not pardiso_available():
        pytest.skip("pypardiso (MKL) is not installed on this platform")
    first, second = PardisoSolve(), PardisoSolve()
    rng = np.random.default_rng(1)
    # new values on one pattern, another solver's pattern in between, a pattern change, several right-hand sides
    for solve, size, scale, columns in [
        (first, 20, 1.0, 1),
        (first, 20, 3.0, 1),
        (second, 12, 1.0, 1),
        (first, 20, 0.5, 3),
        (first, 16, 2.0, 2),
    ]:
        matrix = scale * _convection_diffusion(size, 0.0)
        rhs = rng.standard_normal((size * size, columns)).squeeze()
        exact = sla.spsolve(matrix.tocsc(), rhs).reshape(rhs.shape)
        solution = solve(matrix, rhs)
        assert solution.shape == rhs.shape
        assert np.linalg.norm(solution - exact) <= 1e-10 * np.linalg.norm(exact)
        assert PardisoSolve._analysed[SYMMETRIC] is solve.pattern  # the handle holds the analysis of the last pattern
