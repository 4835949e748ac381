"""Errors of the numerical layers (InputError) reach the user as one line naming the case's field."""

import pytest

from adaptsim.errors import CaseError, InputError, case_field
from nbody.errors import ArgumentError
from rom.mesh import read_mesh


def test_an_input_error_names_where_and_a_case_field_maps_it():
    error = InputError("must be positive, got -1.0", ("masses", 2))
    assert str(error) == "masses[2]: must be positive, got -1.0" and isinstance(error, ValueError)
    with pytest.raises(CaseError) as info, case_field("initial_conditions"):
        raise error
    assert info.value.field == ("initial_conditions", "masses", 2)
    assert str(info.value) == "initial_conditions.masses[2]: must be positive, got -1.0"
    assert ArgumentError("bad", ("tol",)).argument == ("tol",)


def test_the_mesh_reader_knows_no_case_field_and_the_case_layer_adds_it(tmp_path):
    missing = tmp_path / "blade.msh"
    with pytest.raises(InputError) as info:
        read_mesh(missing)
    assert info.value.where == () and str(info.value) == f"mesh file {str(missing)!r} does not exist"
    with pytest.raises(CaseError, match=r"^mesh\.file: mesh file .* does not exist$"), case_field("mesh", "file"):
        read_mesh(missing)
