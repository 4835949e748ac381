"""Floating-point warnings of a run are collected into one line each, never printed raw."""

import warnings
from pathlib import Path

import numpy as np
import pytest

from adaptsim.cli import main
from adaptsim.numerical_warnings import collected, summary

CASES = Path(__file__).resolve().parents[2] / "cases"


def test_floating_point_warnings_are_collected_once_with_their_place():
    with collected() as seen:
        for _ in range(3):  # the same warning from the same line: one entry
            np.array([1e300]) * np.array([1e300])
        np.array([0.0]) / np.array([0.0])
    assert len(seen) == 2, seen
    assert seen[0].startswith("overflow encountered in multiply (adaptsim/test_numerical_warnings.py:")
    assert seen[1].startswith("invalid value encountered in divide (")
    assert summary(seen) == "; ".join(seen)
    assert summary([*seen, "a", "b"]) == "; ".join(seen) + " and 2 more"


def test_other_warnings_are_shown_as_before(capsys):
    with collected() as seen, pytest.warns(UserWarning, match="a user warning"):
        warnings.warn("a user warning", UserWarning, stacklevel=1)
    assert seen == []


def test_a_failed_run_quotes_them_in_its_one_line(tmp_path, capsys):
    """A blade whose Young's modulus overflows the stress: the failure's line says where the overflow happened."""
    from tests.adaptsim.test_bad_input import CASES

    code = main(["run", str(CASES / "blade_hifi.yaml"), "--out", str(tmp_path / "out"), "--set", "material.young=1e300",
                 "--set", "output.vtu=none", "--set", "mesh.divisions=[2, 1, 2]", "--set", "solver.max_cuts=1"])  # fmt: skip
    lines = capsys.readouterr().err.splitlines()
    assert not [line for line in lines if "Warning" in line], lines  # (Python's raw format: "RuntimeWarning: ...")
    errors = [line for line in lines if line.startswith("adaptsim: ")]
    assert code == 1 and len(errors) == 1, lines
    assert errors[0].startswith("adaptsim: run failed: ") and "(after numerical warnings: overflow encountered in" in errors[0]
