"""``adaptsim cite``: the references of the methods a case uses."""

from pathlib import Path

import pytest

from adaptsim.cases import installed_kinds, load_case
from adaptsim.citations import REFERENCES, case_references, reference
from adaptsim.cli import main
from rl_agents.algorithms import ALGORITHMS_CONTRIB, ALGORITHMS_SB3

CASES = Path(__file__).resolve().parents[2] / "cases"


def cited(capsys, case, *overrides):
    args = [a for o in overrides for a in ("--set", o)]
    assert main(["cite", str(CASES / case), *args]) == 0
    return capsys.readouterr().out


def test_every_kind_lists_its_methods_and_every_key_has_a_reference():
    for name, spec in installed_kinds().items():
        assert spec.citations, f"kind {name} names no citation function"
    for case in sorted(CASES.glob("*.yaml")):
        references = case_references(load_case(case))
        assert references and len(references) == len(set(references)), case.name


def test_references_follow_the_case(capsys):
    assert "Makino, S. J. Aarseth" in cited(capsys, "quickstart.yaml")
    with_ias15 = cited(capsys, "quickstart.yaml", "integrator.name=ias15", "integrator.eta=null", "integrator.tol=1e-9")
    assert "IAS15" in with_ias15 and "Makino" not in with_ias15
    assert "Szebehely" in cited(capsys, "pythagorean.yaml")
    ppo = cited(capsys, "rl_train_quick.yaml", "algorithm=PPO", "hyperparameters={}")
    assert "Proximal policy optimization" in ppo and "Saz Ulibarrena" in ppo and "Human-level control" not in ppo
    rom = cited(capsys, "blade_rom.yaml")
    for method in ("empirical cubature", "QDEIM", "gappy data", "error indicator-based adaptive", "Norton flow"):
        assert method in rom, method
    assert "Norton flow" not in cited(capsys, "blade_hifi.yaml", "material.model=elastic")


@pytest.mark.parametrize("algorithm", ALGORITHMS_SB3 + ALGORITHMS_CONTRIB)
def test_every_algorithm_has_its_paper(algorithm):
    assert reference(algorithm)


def test_a_bad_case_is_one_line(tmp_path, capsys):
    assert main(["cite", str(tmp_path / "missing.yaml")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_no_reference_is_listed_twice():
    texts = [text for group in REFERENCES.values() for text in group.values()]
    assert len(texts) == len(set(texts))
