"""Cost of the high-fidelity blade model per Newton iteration, and an elastic solve against scikit-fem.

    python benchmarks/hifi.py [--sizes small medium large]

For three blade meshes (10-node tetrahedra): degrees of freedom, seconds per Newton iteration split into
the constitutive update (all integration points, viscoplastic with plastic flow everywhere), the
assembly of the tangent, and the sparse direct solve (PARDISO factorising the symmetric tangent as symmetric, as the
solver does, and as unsymmetric; SuperLU; best of three); then the same linear-elastic
problem (clamped root, centrifugal load) assembled and solved by scikit-fem on the same mesh, with the
ratio of its time to ours and the difference of the solutions.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import skfem
from rich.console import Console
from rich.table import Table
from skfem.models.elasticity import lame_parameters, linear_elasticity

from rom.fem.assembly import FreeDofAssembler
from rom.fem.linear import UNSYMMETRIC, PardisoSolve, linear_solver, pardiso_available
from rom.fem.loads import body_force, centrifugal_acceleration
from rom.fem.space import VectorSpace
from rom.geometry import blade
from rom.materials import MaterialState, TemperatureTable, ViscoplasticMaterial

SIZES = {"small": (8, 2, 10), "medium": (14, 3, 20), "large": (18, 4, 28)}
E, NU, RHO, OMEGA = 200e9, 0.3, 8200.0, 1000.0


def timed(function, *args):
    started = time.perf_counter()
    value = function(*args)
    return value, time.perf_counter() - started


def material() -> ViscoplasticMaterial:
    c = TemperatureTable.constant
    return ViscoplasticMaterial(
        c("young", E),
        c("poisson", NU),
        norton_k=c("k", 300e6),
        norton_n=c("n", 10.0),
        yield_stress=c("r0", 10e6),
        hardening_c=c("c", 1e9),
        hardening_d=c("d", 100.0),
    )


def ours(divisions):
    mesh = blade(divisions=divisions)
    space = VectorSpace(mesh)
    z = mesh.points[:, 2]
    free = np.ones(space.n_dofs, dtype=bool)
    root = np.flatnonzero(z <= z.min() + 1e-12)
    free[(3 * root[:, None] + np.arange(3)).ravel()] = False
    assembler = FreeDofAssembler(space.dofs, free)
    law = material()
    strain = np.tile([2e-3, -1e-3, -1e-3, 1e-4, 0.0, 0.0], (space.n_points, 1))
    temps = np.full(space.n_points, 293.15)
    result, t_law = timed(law.update, strain, temps, 1.0, MaterialState.zeros(space.n_points))
    matrix, t_assembly = timed(lambda: assembler.assemble(space.element_matrices(result.tangent)))
    force = body_force(space, RHO, centrifugal_acceleration(space.points.reshape(-1, 3), OMEGA, np.array([1.0, 0, 0]), np.zeros(3)))
    solvers = {"superlu": linear_solver("superlu")}
    if pardiso_available():  # the tangent is symmetric here: PardisoSolve factorises it as such; and as unsymmetric
        import pypardiso

        unsymmetric = pypardiso.PyPardisoSolver(mtype=UNSYMMETRIC)
        solvers.update(pardiso=linear_solver("pardiso"), pardiso_unsymmetric=lambda a, b: pypardiso.spsolve(a, b, solver=unsymmetric))
    solves = {name: float("inf") for name in solvers}
    # best of three interleaved repeats, each factorising: PardisoSolve as Newton sees it (the pattern analysed in the
    # first repeat only), pypardiso's spsolve analysing each time
    for _ in range(3):
        for name, solve in solvers.items():
            for handle in [*PardisoSolve._solvers.values(), *([unsymmetric] if pardiso_available() else [])]:
                handle.remove_stored_factorization()
            solves[name] = min(solves[name], timed(solve, matrix.copy(), force[free])[1])
            if name == "pardiso":
                solves["pardiso_memory"] = PardisoSolve.peak_memory()
            elif name == "pardiso_unsymmetric":
                solves["pardiso_unsymmetric_memory"] = 1024 * max(
                    unsymmetric.get_iparm(15), unsymmetric.get_iparm(16) + unsymmetric.get_iparm(17)
                )
    # elastic solve on the same mesh, ours: assemble + solve
    elastic_tangent = np.broadcast_to(law.coefficients(np.array([293.15])).stiffness[0], (space.n_points, 6, 6))
    started = time.perf_counter()
    k_elastic = assembler.assemble(space.element_matrices(elastic_tangent))
    u = np.zeros(space.n_dofs)
    u[free] = linear_solver("auto")(k_elastic, force[free])
    t_elastic = time.perf_counter() - started
    return mesh, space, u, {"law": t_law, "assembly": t_assembly, **solves, "elastic": t_elastic}


def scikit_fem(mesh):
    vertices, corner_cells = np.unique(mesh.cells[:, :4], return_inverse=True)
    started = time.perf_counter()
    reference = skfem.MeshTet(np.ascontiguousarray(mesh.points[vertices].T), np.ascontiguousarray(corner_cells.reshape(-1, 4).T))
    basis = skfem.Basis(reference, skfem.ElementVector(skfem.ElementTetP2()), intorder=2)
    stiffness = skfem.asm(linear_elasticity(*lame_parameters(E, NU)), basis)

    @skfem.LinearForm
    def centrifugal(v, w):
        return RHO * OMEGA**2 * (w.x[1] * v[1] + w.x[2] * v[2])

    load = skfem.asm(centrifugal, basis)
    z_min = mesh.points[:, 2].min()
    clamped = basis.get_dofs(lambda p: p[2] <= z_min + 1e-12).all()
    solution = skfem.solve(*skfem.condense(stiffness, load, D=clamped))
    elapsed = time.perf_counter() - started
    return vertices, np.stack([solution[basis.nodal_dofs[k]] for k in range(3)], axis=1), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    args = parser.parse_args()
    table = Table(title="high-fidelity blade: seconds per Newton iteration, and an elastic solve against scikit-fem")
    for column in (
        "mesh",
        "dofs",
        "constitutive",
        "assembly",
        "PARDISO symmetric (memory)",
        "PARDISO unsymmetric (memory)",
        "SuperLU",
        "elastic (ours)",
        "elastic (scikit-fem)",
        "scikit-fem / ours",
        "max |du| / max |u|",
    ):
        table.add_column(column, justify="right")
    for size in args.sizes:
        mesh, space, u, t = ours(SIZES[size])
        vertices, u_ref, t_ref = scikit_fem(mesh)
        difference = np.abs(u.reshape(-1, 3)[vertices] - u_ref).max() / np.abs(u_ref).max()
        table.add_row(
            size,
            f"{space.n_dofs}",
            f"{t['law']:.3f}",
            f"{t['assembly']:.3f}",
            f"{t.get('pardiso', float('nan')):.3f} ({t.get('pardiso_memory', 0) / 2**20:.0f} MB)",
            f"{t.get('pardiso_unsymmetric', float('nan')):.3f} ({t.get('pardiso_unsymmetric_memory', 0) / 2**20:.0f} MB)",
            f"{t['superlu']:.3f}",
            f"{t['elastic']:.3f}",
            f"{t_ref:.3f}",
            f"{t_ref / t['elastic']:.1f}x",
            f"{difference:.1e}",
        )
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
