"""The ``rom_hifi`` case kind: the validated sections of a blade case (mesh, material, loading, solver, output).

A rotating, heated blade (or any tetrahedral mesh) solved with the full model; the ``rom_online`` case
(:mod:`rom.online_case`) extends these sections. The runner is :func:`rom.hifi_run.run`.
"""

from __future__ import annotations

import importlib.util
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
from pydantic import Field, PrivateAttr, field_validator, model_validator

from adaptsim.cases import CaseModel, KindSpec, PositiveFloat, StrictModel
from adaptsim.errors import CaseError, InputError, case_field, first_line

if TYPE_CHECKING:
    from rom.hifi import HifiSolver, MechanicalProblem
    from rom.mesh import TetMesh
    from rom.mesh_blocks import MeshBlock
    from rom.parallel.layout import Layout

Vector3 = tuple[float, float, float]
#: Bounds a user can check a case against before anything runs (memory is checked as well, see
#: :meth:`HifiCase.estimated_bytes`).
MAX_DIVISIONS = 400
MAX_INCREMENTS = 100_000
#: The longest load history (s): 300 years, past any service life.
MAX_TIME = 1e10
#: Bytes per element-matrix entry of the full model solved by PETSc, all ranks together: the strain-displacement and
#: element matrices, each entry's place in the tangent, the tangent in SciPy and in PETSc, and GAMG's hierarchy.
#: Measured on the 108k-dof blade (21.4 M entries), peak resident memory less the interpreter and libraries
#: (144 MB a process): 1,035 MB on one process (48 bytes an entry), 2 x 776 MB on two (72).
PETSC_BYTES_PER_ENTRY = 72.0


def existing_file(value: str | None, what: str) -> str | None:
    """Validator: ``value`` is None or an existing file (a folder is named as one)."""
    if value is not None and Path(value).is_dir():
        raise ValueError(f"{value!r} is a folder, not a {what} file")
    if value is not None and not Path(value).is_file():
        raise ValueError(f"{what} file {value!r} does not exist")
    return value


class Table(StrictModel):
    """A coefficient tabulated against temperature (linear interpolation, no extrapolation)."""

    temperatures: list[float] = Field(min_length=2, description="Increasing temperatures (K).")
    values: list[float] = Field(min_length=2, description="Values at those temperatures.")


Coefficient = float | Table


class MaterialSpec(StrictModel):
    """Material law and coefficients; each coefficient is a number or a temperature table."""

    model: Literal["elastic", "viscoplastic"] = Field("viscoplastic", description="`elastic` or Norton/Armstrong-Frederick `viscoplastic`.")
    density: PositiveFloat = Field(8200.0, description="Mass density (kg/m^3).")
    reference_temperature: float = Field(293.15, gt=0.0, description="Temperature of zero thermal strain (K).")
    young: Coefficient = Field(200e9, description="Young's modulus E (Pa), > 0.")
    poisson: Coefficient = Field(0.3, description="Poisson's ratio, in [0, 0.5).")
    expansion: Coefficient = Field(2e-5, description="Secant thermal expansion alpha (1/K), >= 0.")
    norton_k: Coefficient = Field(300e6, description="Norton drag stress K (Pa s^(1/n)), > 0.")
    norton_n: Coefficient = Field(30.0, description="Norton exponent n, >= 1.")
    yield_stress: Coefficient = Field(10e6, description="Threshold R0 (Pa), >= 0.")
    hardening_c: Coefficient = Field(1e11, description="Armstrong-Frederick C (Pa), >= 0.")
    hardening_d: Coefficient = Field(1000.0, description="Armstrong-Frederick D, >= 0.")

    @model_validator(mode="after")
    def _check(self) -> MaterialSpec:
        self.build()
        return self

    def _table(self, name: str, minimum: float, strict: bool, maximum: float | None = None):
        from rom.materials import TemperatureTable

        value = getattr(self, name)
        if isinstance(value, Table):
            table = TemperatureTable(f"material.{name}", tuple(value.values), tuple(value.temperatures))
        else:
            table = TemperatureTable.constant(f"material.{name}", value)
        for value in table.values:
            if value < minimum or (strict and value == minimum) or (maximum is not None and value >= maximum):
                bound = (f"> {minimum:g}" if strict else f">= {minimum:g}") + (f" and < {maximum:g}" if maximum is not None else "")
                raise ValueError(f"{name} must be {bound}, got {value:g}")
        return table

    def build(self):
        """The :class:`rom.materials` law these coefficients describe."""
        from rom.materials import ElasticMaterial, ViscoplasticMaterial

        common = dict(
            young=self._table("young", 0.0, True),
            poisson=self._table("poisson", 0.0, False, 0.5),
            expansion=self._table("expansion", 0.0, False),
            reference_temperature=self.reference_temperature,
            density=self.density,
        )
        if self.model == "elastic":
            return ElasticMaterial(**common)
        return ViscoplasticMaterial(
            **common,
            norton_k=self._table("norton_k", 0.0, True),
            norton_n=self._table("norton_n", 1.0, False),
            yield_stress=self._table("yield_stress", 0.0, False),
            hardening_c=self._table("hardening_c", 0.0, False),
            hardening_d=self._table("hardening_d", 0.0, False),
        )


class MeshSpec(StrictModel):
    """The generated blade, or a tetrahedral mesh file (Gmsh .msh, VTU, anything meshio reads)."""

    source: Literal["blade", "file"] = Field("blade", description="`blade`: the generator; `file`: read `file`.")
    file: str | None = Field(None, description="Mesh file (relative to the working directory).")
    order: Literal[1, 2] = Field(
        2, description="Element order: 1 (4-node) or 2 (10-node tetrahedra; linear meshes from files are promoted)."
    )
    divisions: tuple[int, int, int] = Field(
        (8, 2, 10), description="Blade: cells around the chord, through the thickness, along the height."
    )
    chord: PositiveFloat = Field(0.04, description="Blade chord (m).")
    span: PositiveFloat = Field(0.08, description="Airfoil span (m).")
    hub_radius: PositiveFloat = Field(0.25, description="Radius of the blade's base (m).")
    root_height: PositiveFloat = Field(0.015, description="Height of the root block (m).")
    twist_degrees: float = Field(25.0, description="Twist at the tip (degrees).")

    _file_exists = field_validator("file")(lambda value: existing_file(value, "mesh"))

    @field_validator("divisions")
    @classmethod
    def _division_range(cls, value: tuple[int, int, int]) -> tuple[int, int, int]:
        if min(value) < 1 or max(value) > MAX_DIVISIONS:
            raise ValueError(f"divisions must be between 1 and {MAX_DIVISIONS}, got {list(value)}")
        return value

    @model_validator(mode="after")
    def _check(self) -> MeshSpec:
        if self.source == "file" and self.file is None:
            raise ValueError("source 'file' needs `file`")
        if self.source == "blade" and self.file is not None:
            raise ValueError("`file` only applies to source 'file'")
        return self

    def build(self):
        """The checked :class:`rom.mesh.TetMesh`."""
        from rom.geometry import blade
        from rom.mesh import read_mesh

        if self.file is not None:  # source 'file' (checked above)
            with case_field("mesh", "file"):
                mesh = read_mesh(self.file)
            return mesh.quadratic() if self.order == 2 else mesh
        mesh = blade(self.divisions, self.order, **self.shape())
        with case_field("mesh"):
            return mesh.check()

    def shape(self) -> dict[str, float]:
        """The blade's dimensions, as :func:`rom.geometry.blade_mapping` takes them."""
        names = ("chord", "span", "hub_radius", "root_height", "twist_degrees")
        return {name: getattr(self, name) for name in names}

    def block(self, part: int, parts: int) -> MeshBlock:
        """Part ``part`` (0..parts-1) of the generated blade, built alone and checked: its share of the layers along
        the height (:func:`rom.mesh_blocks.layer_block`, a :class:`rom.mesh_blocks.MeshBlock`)."""
        from rom.geometry import blade_mapping
        from rom.mesh_blocks import layer_block, layer_ranges

        bounds = layer_ranges(self.divisions[2], parts)
        block = layer_block(blade_mapping(**self.shape()), self.divisions, (bounds[part], bounds[part + 1]), self.order)
        with case_field("mesh"):
            block.mesh.check()
        return block


class Rotation(StrictModel):
    """Rotation about the engine axis: centrifugal body force ``rho load(t) omega^2 r``."""

    speed: float = Field(1000.0, ge=0.0, le=1e5, description="Angular speed omega at load 1 (rad/s), at most 1e5 (a million rpm).")
    axis: Vector3 = Field((1.0, 0.0, 0.0), description="Engine axis direction.")
    origin: Vector3 = Field((0.0, 0.0, 0.0), description="A point of the axis (m).")

    @model_validator(mode="after")
    def _check(self) -> Rotation:
        if np.linalg.norm(self.axis) == 0.0:
            raise ValueError("axis must not be the zero vector")
        return self


class TemperatureSpec(StrictModel):
    """Temperature field T(x, y, z, t): an expression (variables x, y, z, t, load), or nodal values from a file."""

    expression: str = Field(
        "293.15", description="Expression in x, y, z (m), t (s), load and the parameters, e.g. `T0 + load * dT * (z - 0.25) / 0.08`."
    )
    parameters: dict[str, float] = Field(default_factory=dict, description="Named constants of the expression.")
    file: str | None = Field(
        None, description="`.npy` or `.csv` of one temperature per mesh node; applied as T_ref + load (T_file - T_ref)."
    )

    _file_exists = field_validator("file")(lambda value: existing_file(value, "temperature"))

    @model_validator(mode="after")
    def _check(self) -> TemperatureSpec:
        from rom.expressions import FieldExpression

        FieldExpression(self.expression, self.parameters, "loading.temperature.expression")
        return self

    def build(self, points: np.ndarray, reference: float, history: History, nodes: np.ndarray | None = None):
        """``T(t)``: temperatures at the mesh nodes ``points`` (n_nodes, 3), or only at the nodes ``nodes``."""
        from rom.expressions import FieldExpression

        if self.file is not None:
            values = self.file_values(points.shape[0])
            return self._scaled(values if nodes is None else values[nodes], reference, history)
        expression = FieldExpression(self.expression, self.parameters, "loading.temperature.expression")
        where = points if nodes is None else points[nodes]
        return lambda t: expression(where, t, history.factor(t))

    def build_part(self, points: np.ndarray, numbers: np.ndarray, n_nodes: int, reference: float, history: History):
        """``T(t)`` at part of a mesh of ``n_nodes`` nodes: its nodes of numbers ``numbers`` at ``points`` (a rank's
        block of the mesh, built alone: a file's values are read whole, one number per node, and taken at ``numbers``)."""
        if self.file is not None:
            return self._scaled(self.file_values(n_nodes)[numbers], reference, history)
        return self.build(points, reference, history)

    @staticmethod
    def _scaled(values: np.ndarray, reference: float, history: History):
        """``T(t) = T_ref + load(t) (values - T_ref)``."""
        return lambda t: reference + history.factor(t) * (values - reference)

    def file_values(self, n_nodes: int) -> np.ndarray:
        """The temperatures of ``file``, one per node, checked (:class:`CaseError` naming the file otherwise)."""
        where = ("loading", "temperature", "file")
        assert self.file is not None
        try:
            read = np.load(self.file, allow_pickle=False) if self.file.endswith(".npy") else np.loadtxt(self.file, delimiter=",", ndmin=1)
            values = np.asarray(read, dtype=float).ravel()
        except (OSError, ValueError, TypeError, EOFError) as error:
            raise CaseError(f"cannot read {self.file!r} as numbers ({first_line(error)})", field=where) from None
        if values.size != n_nodes:
            raise CaseError(f"{self.file!r} holds {values.size} values; the mesh has {n_nodes} nodes (one value per node)", field=where)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise CaseError(f"{self.file!r} holds {bad.size} values that are not finite (first at node {bad[0]})", field=where)
        return values

    def check_on(self, points: np.ndarray, history: History, n_nodes: int | None = None) -> None:
        """Evaluate the field once at ``points`` (nodes of a mesh of ``n_nodes`` nodes, all of them by default) at
        every time of ``history`` (:class:`CaseError` when it fails)."""
        if self.file is not None:
            self.file_values(points.shape[0] if n_nodes is None else n_nodes)
            return
        from rom.expressions import FieldExpression

        expression = FieldExpression(self.expression, self.parameters, "loading.temperature.expression")
        for t in history.times:
            expression(points, t, history.factor(t))


class History(StrictModel):
    """Piecewise-linear load factor ``load(t)`` and the increments of each segment (ramp, hold, unload...)."""

    times: list[Annotated[float, Field(le=MAX_TIME)]] = Field(
        [0.0, 1.0, 101.0, 102.0], min_length=2, description=f"Increasing times (s), the first 0, at most {MAX_TIME:g} (300 years)."
    )
    load: list[float] = Field([0.0, 1.0, 1.0, 0.0], min_length=2, description="Load factor at those times.")
    increments: list[int] = Field([4, 10, 4], description="Increments in each segment (>= 1).")

    @model_validator(mode="after")
    def _check(self) -> History:
        if len(self.load) != len(self.times):
            raise ValueError(f"{len(self.load)} load values for {len(self.times)} times")
        if self.times[0] != 0.0 or any(b <= a for a, b in pairwise(self.times)):
            raise ValueError("times must start at 0 and increase strictly")
        if len(self.increments) != len(self.times) - 1 or min(self.increments) < 1:
            raise ValueError(f"increments needs one count >= 1 per segment ({len(self.times) - 1})")
        if sum(self.increments) > MAX_INCREMENTS:
            raise ValueError(f"increments add up to {sum(self.increments)}; at most {MAX_INCREMENTS}")
        return self

    def increment_times(self) -> np.ndarray:
        """End times of all increments."""
        pieces = [np.linspace(a, b, n + 1)[1:] for (a, b), n in zip(pairwise(self.times), self.increments, strict=True)]
        return np.concatenate(pieces)

    def factor(self, t: float) -> float:
        """``load(t)``."""
        return float(np.interp(t, self.times, self.load))


class Loading(StrictModel):
    """Rotation, temperature, the clamped root and the load history."""

    rotation: Rotation = Rotation()
    temperature: TemperatureSpec = TemperatureSpec()
    history: History = History()
    clamp_axis: Literal["x", "y", "z"] = Field("z", description="Nodes at the minimum of this coordinate are clamped (the blade's root).")


class SolverSpec(StrictModel):
    """Newton-Raphson settings."""

    tolerance: PositiveFloat = Field(1e-8, description="Relative residual at convergence.")
    max_iterations: int = Field(15, ge=1, le=1000, description="Newton iterations before an increment is cut.")
    max_cuts: int = Field(8, ge=0, le=40, description="Halvings of an increment before the run fails.")
    linear_solver: Literal["auto", "pardiso", "superlu", "petsc"] = Field(
        "auto",
        description=(
            "Linear solver of the Newton systems: a sparse direct solver (auto: PARDISO when pypardiso is installed, "
            "else SuperLU), gathered on rank 0 under MPI; or petsc: the distributed tangent solved by PETSc (CG or flexible "
            "GMRES with GAMG and the rigid-body modes; needs the petsc extra: tools/install_petsc.sh)."
        ),
    )
    petsc_options: dict[str, str | int | float] = Field(
        default_factory=dict,
        description="PETSc options for linear_solver: petsc, without the leading dash (e.g. {ksp_rtol: 1e-10, pc_type: gamg}).",
    )

    @field_validator("petsc_options")
    @classmethod
    def _option_names(cls, options: dict[str, str | int | float]) -> dict[str, str | int | float]:
        for name in options:
            if not name or not all(c.isalnum() or c == "_" for c in name):
                raise ValueError(f"{name!r} is not a PETSc option name (letters, digits and underscores, no leading dash)")
        return options

    @model_validator(mode="after")
    def _petsc_installed(self) -> SolverSpec:
        if self.petsc_options and self.linear_solver != "petsc":
            raise ValueError("petsc_options apply to linear_solver: petsc only")
        if self.linear_solver == "petsc" and importlib.util.find_spec("petsc4py") is None:
            raise ValueError("linear_solver petsc needs petsc4py: pip install -e '.[petsc]' (see the README)")
        return self

    def build(self, problem: MechanicalProblem, layout: Layout | None = None) -> HifiSolver:
        """The :class:`rom.hifi.HifiSolver` of ``problem`` with these settings, on the elements ``layout`` holds
        (all of them for a serial :class:`rom.parallel.layout.Layout`, the default)."""
        from rom.parallel.layout import Layout  # the full model and MPI helpers: kept out of validation
        from rom.parallel.solver import distributed_solver

        options = dict(tolerance=self.tolerance, max_iterations=self.max_iterations, max_cuts=self.max_cuts, solver=self.linear_solver)
        return distributed_solver(problem, layout or Layout.serial(problem.space), self.petsc_options, **options)


class Output(StrictModel):
    """What to write besides the HDF5 snapshots."""

    vtu: Literal["none", "last", "segments", "all"] = Field(
        "segments", description="VTU files: none, the last increment, the end of each history segment, or every increment."
    )
    checkpoint_every: int = Field(5, ge=1, description="Increments between checkpoints (a killed run resumes from the last one).")


class HifiCase(CaseModel):
    """High-fidelity elasto-viscoplastic solve of a rotating, heated blade."""

    kind: Literal["rom_hifi"]
    mesh: MeshSpec = MeshSpec()
    material: MaterialSpec = MaterialSpec()
    loading: Loading = Loading()
    solver: SolverSpec = SolverSpec()
    output: Output = Output()
    _mesh: TetMesh | None = PrivateAttr(None)
    _block: MeshBlock | None = PrivateAttr(None)

    def estimated_bytes(self, n_nodes: int, n_cells: int) -> float:
        """Memory of the full-model solve on this machine: the recorded snapshots (displacement and 20 values per
        integration point per increment, on rank 0), the element matrices and the sparse factorisation (about 30
        times the stiffness entries, on rank 0), or with PETSc :data:`PETSC_BYTES_PER_ENTRY` shared by the ranks (this
        machine's share of them)."""
        from adaptsim.launch import launched_local_ranks, launched_ranks
        from rom.fem.quadrature import tetrahedron
        from rom.fem.space import STIFFNESS_DEGREE

        nodes_per_cell = 10 if self.mesh.order == 2 else 4
        n_points = n_cells * tetrahedron(STIFFNESS_DEGREE[self.mesh.order]).weights.size
        increments = sum(self.loading.history.increments)
        snapshots = increments * (3 * n_nodes + 20 * n_points) * 8.0
        element_entries = n_cells * (3 * nodes_per_cell) ** 2
        if self.solver.linear_solver == "petsc":
            return snapshots + element_entries * PETSC_BYTES_PER_ENTRY * launched_local_ranks() / launched_ranks()
        return snapshots + element_entries * 8.0 * 3 + 30 * element_entries * 12.0

    @model_validator(mode="after")
    def _check_problem_inputs(self) -> HifiCase:
        """Find before the run what building the problem would: the memory it needs, an unreadable or broken mesh
        file, a temperature that cannot be evaluated on the mesh at the history's times."""
        from adaptsim.memory import check_memory

        if self.mesh.source == "blade":  # its size is known before it is generated
            a, b, c = self.mesh.divisions
            n_cells = 6 * a * b * c
            n_nodes = (2 * a + 1) * (2 * b + 1) * (2 * c + 1) if self.mesh.order == 2 else (a + 1) * (b + 1) * (c + 1)
            check_memory(self.estimated_bytes(n_nodes, n_cells), f"the blade mesh {a} x {b} x {c} and its solve")
        try:
            if self.by_layers():
                block = self.validated_block()
                points, n_nodes = block.mesh.points, block.n_nodes
            else:
                mesh = self.validated_mesh()
                if self.mesh.source == "file":
                    check_memory(self.estimated_bytes(mesh.n_nodes, mesh.n_cells), f"the mesh ({mesh.n_nodes} nodes) and its solve")
                points, n_nodes = mesh.points, mesh.n_nodes
            self.loading.temperature.check_on(points, self.loading.history, n_nodes)
        except (CaseError, InputError) as error:
            raise ValueError(str(error)) from None
        return self

    def validated_mesh(self) -> TetMesh:
        """The mesh of ``mesh:``, built once: by validation, then handed to the run."""
        if self._mesh is None:
            self._mesh = self.mesh.build()
        return self._mesh

    def by_layers(self) -> bool:
        """Whether each rank builds only its own part of the mesh (:meth:`validated_block`): a ``rom_hifi`` case under
        ``mpiexec`` on the generated blade with at least one layer of cells along the height per rank (a temperature
        file is read by every rank, one number per node of the whole mesh, and taken at its block's nodes).
        Otherwise every rank builds the whole mesh and takes its share of the elements (METIS)."""
        from adaptsim.launch import launched_ranks

        return self.kind == "rom_hifi" and 1 < launched_ranks() <= self.mesh.divisions[2] and self.mesh.source == "blade"

    def validated_block(self) -> MeshBlock:
        """This rank's part of the blade (:meth:`MeshSpec.block`), built once: by validation, then handed to the run."""
        from adaptsim.launch import launched_rank, launched_ranks

        if self._block is None:
            self._block = self.mesh.block(launched_rank(), launched_ranks())
        return self._block


KIND = KindSpec(
    name="rom_hifi",
    model=HifiCase,
    runner="rom.hifi_run:run",
    summary="High-fidelity 3D elasto-viscoplastic solve of a rotating, heated blade (snapshots for the ROM).",
    smoke_overrides=("mesh.divisions=[3,1,3]", "loading.history.increments=[1,2,1]"),
    mpi=True,
    citations="rom.hifi_case:citations",
)


def citations(case: HifiCase) -> list[str]:
    """Reference keys of the material law, its integration and the sparse solver."""
    law = ["viscoplasticity", "return_mapping"] if case.material.model == "viscoplastic" else []
    solver = {"auto": ["pardiso"], "pardiso": ["pardiso"], "superlu": [], "petsc": ["petsc", "gamg"]}[case.solver.linear_solver]
    return [*law, *solver]
