"""Every Python snippet of the README and of docs/ runs, top to bottom per file, from a folder holding the
bundled cases and the quick-start result (the snippets read ``cases/...`` and ``results/quickstart/...``)."""

import os
import re
from pathlib import Path

import matplotlib
import pytest

from adaptsim.cases import load_case, run_case

ROOT = Path(__file__).resolve().parents[1]
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def python_snippets(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)\n```", path.read_text(encoding="utf-8"), flags=re.S)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("snippets")
    (folder / "cases").symlink_to(ROOT / "cases")
    run_case(load_case(ROOT / "cases" / "quickstart.yaml"), folder / "results" / "quickstart")
    return folder


@pytest.mark.parametrize("path", [p for p in FILES if python_snippets(p)], ids=lambda p: p.name)
def test_every_python_snippet_runs(path, workdir, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(workdir)
    namespace: dict = {"__name__": "__snippet__"}
    for index, snippet in enumerate(python_snippets(path)):
        try:
            exec(compile(snippet, f"{path.name}[snippet {index}]", "exec"), namespace)
        except Exception as error:  # pragma: no cover - the failure message is the point
            pytest.fail(f"{path.name}, snippet {index}: {type(error).__name__}: {error}")
    assert os.getcwd() == str(workdir)


def test_snippets_exist_where_a_user_looks():
    assert python_snippets(ROOT / "README.md") and python_snippets(ROOT / "docs" / "rom.md") and python_snippets(ROOT / "docs" / "nbody.md")
