"""The README's first section: exactly two commands, the second one being what CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def first_section_commands():
    text = (ROOT / "README.md").read_text()
    first_section = text.split("\n## ")[1]
    return re.findall(r"```bash\n(.*?)\n```", first_section, flags=re.S)


def test_two_commands_first():
    commands = first_section_commands()
    assert len(commands) == 2
    setup_and_run, setup_and_test = commands
    assert "pip install -q torch==2.13.0 &&" in setup_and_run and "adaptsim run cases/quickstart.yaml" in setup_and_run
    assert setup_and_run.index("torch==2.13.0") < setup_and_run.index("pip install -q -e")
    assert "pytest" in setup_and_test


def test_ci_runs_the_readme_test_command():
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert first_section_commands()[1] in ci_lines
