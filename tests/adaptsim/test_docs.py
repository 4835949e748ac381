"""The generated parts of the docs (the README's gallery, the case file reference, the references) match the code."""

import re

import pytest

from adaptsim import docs
from adaptsim.cases import installed_kinds
from adaptsim.gallery import ENTRIES, GALLERY, build


@pytest.mark.parametrize("path", list(docs.FILES), ids=lambda path: path.name)
def test_the_generated_sections_are_up_to_date(path):
    current = path.read_text(encoding="utf-8")
    assert docs.generate(current, docs.FILES[path]) == current, "run: python -m adaptsim.docs"


def test_the_case_reference_has_every_field_of_every_kind():
    reference = docs.case_reference()
    for name, spec in installed_kinds().items():
        assert f"#### `kind: {name}`" in reference
        for field in spec.model.model_fields:
            if field != "kind":
                assert f"| `{field}` |" in reference, (name, field)
    for path in ("integrator.eta", "training.parallel", "env.parameters", "policy.orthogonality_weight", "mesh.divisions"):
        assert f"| `{path}` |" in reference, path
    # a constrained field shows its bounds and its default
    assert re.search(r"\| `solver.max_iterations` \| int \(>= 1, <= 1000\) \| `15` \|", reference)


def test_every_gallery_picture_is_in_the_repository():
    readme = docs.README.read_text(encoding="utf-8")
    for entry in ENTRIES:
        assert (GALLERY / entry.name).is_file(), f"{entry.name}: run python -m adaptsim.gallery"
        assert f"docs/gallery/{entry.name}" in readme


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted({entry.case for entry in ENTRIES}))
def test_the_gallery_script_makes_every_picture(tmp_path, case):
    """(One case at a time: together, every picture.)"""
    written = build(tmp_path, quick=True, cases={case})
    assert sorted(p.name for p in written) == sorted(e.name for e in ENTRIES if e.case == case)
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
