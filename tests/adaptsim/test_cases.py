"""Case loading, overrides and validation messages (one line, field path, the problem)."""

import math

import pytest

from adaptsim.cases import apply_overrides, available_kinds, load_case, validate_case
from adaptsim.errors import CaseError
from tests.adaptsim.demo_kind import DemoCase


def check_error(data, field, *fragments):
    with pytest.raises(CaseError) as info:
        validate_case(data, source="case.yaml")
    error = info.value
    assert error.field == field
    text = str(error)
    assert "\n" not in text
    assert text.startswith("case.yaml: ")
    for fragment in fragments:
        assert fragment in text, text
    return text


def test_registered_kinds_include_entry_points_and_test_kind():
    kinds = available_kinds()
    assert "orthogonality" in kinds and "demo" in kinds
    assert kinds["demo"].model is DemoCase


def test_valid_case_fills_defaults_and_resolves():
    loaded = validate_case({"kind": "demo", "t_end": 2}, source="x")
    assert loaded.case.dt == 0.01 and loaded.case.integrator.eta == 0.02 and loaded.case.seed == 0
    assert "t_end: 2.0" in loaded.resolved_text and "eta: 0.02" in loaded.resolved_text


def test_missing_and_unknown_kind():
    check_error({"t_end": 1}, ("kind",), "missing", "demo")
    check_error({"kind": "dmeo", "t_end": 1}, ("kind",), "unknown kind 'dmeo'", "did you mean 'demo'")


def test_unknown_keys_top_level_and_nested():
    check_error({"kind": "demo", "t_end": 1, "t_ned": 2}, ("t_ned",), "unknown key", "did you mean 't_end'", "allowed keys:")
    check_error(
        {"kind": "demo", "t_end": 1, "integrator": {"etta": 0.1}}, ("integrator", "etta"), "did you mean 'eta'", "allowed keys: name, eta"
    )


@pytest.mark.parametrize("value", [0, -1.0, -1e-9])
def test_non_positive_times(value):
    check_error({"kind": "demo", "t_end": value}, ("t_end",), "greater than 0", repr(value))
    check_error({"kind": "demo", "t_end": 1, "dt": value}, ("dt",), "greater than 0")


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity(value):
    check_error({"kind": "demo", "t_end": value}, ("t_end",), "finite number")
    check_error({"kind": "demo", "t_end": 1, "positions": [[0, 0, 0], [1, value, 0]]}, ("positions", 1, 1), "finite number")


def test_wrong_types():
    check_error({"kind": "demo", "t_end": "soon"}, ("t_end",), "valid number", "'soon'")
    check_error({"kind": "demo", "t_end": 1, "integrator": "hermite"}, ("integrator",), "valid dictionary")
    check_error({"kind": "demo", "t_end": 1, "integrator": {"name": "euler"}}, ("integrator", "name"), "'hermite' or 'leapfrog'")
    check_error({"kind": "demo", "t_end": 1, "seed": -3}, ("seed",), "greater than or equal to 0")
    check_error({"kind": "demo"}, ("t_end",), "missing")


def test_several_problems_are_counted():
    text = check_error({"kind": "demo", "t_end": -1, "dt": -1, "bogus": 1}, ("t_end",))
    assert "(and 2 more problems)" in text


def test_overrides():
    data = {"kind": "demo", "t_end": 1.0, "positions": [[0, 0, 0]]}
    apply_overrides(data, ["t_end=3", "integrator.eta=1e-3", "positions.0=[1, 2, 3]", "description=hello world"])
    assert data == {"kind": "demo", "t_end": 3, "positions": [[1, 2, 3]], "integrator": {"eta": 1e-3}, "description": "hello world"}
    with pytest.raises(CaseError, match="expected path.to.key=value"):
        apply_overrides(data, ["t_end"])
    with pytest.raises(CaseError, match="index '5' is not valid"):
        apply_overrides(data, ["positions.5=1"])
    with pytest.raises(CaseError, match="t_end: is not a mapping"):
        apply_overrides(data, ["t_end.x=1"])


def test_load_case_file_errors(tmp_path):
    with pytest.raises(CaseError, match="does not exist"):
        load_case(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: demo\nt_end: [1, 2\n")
    with pytest.raises(CaseError, match=r"invalid YAML at line \d+, column \d+"):
        load_case(bad)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just a string\n")
    with pytest.raises(CaseError, match="top level must be a mapping"):
        load_case(scalar)
    good = tmp_path / "good.yaml"
    good.write_text("kind: demo\nt_end: 1\n")
    assert load_case(good, ["t_end=5"]).case.t_end == 5.0
    with pytest.raises(CaseError, match=r"good.yaml: t_end: .*greater than 0"):
        load_case(good, ["t_end=-5"])


def test_non_finite_values_are_found_in_nested_results():
    import numpy as np

    from adaptsim.cases import non_finite_values

    data = {"a": np.array([1.0, np.nan]), "group": {"b": [np.inf, 1.0, -np.inf], "c": np.ones(3)}, "text": "x", "n": np.arange(3)}
    assert non_finite_values(data) == [("a", 1), ("group/b", 2)]
