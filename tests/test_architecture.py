"""docs/architecture.md keeps up with the code: every module on disk is in its module list, and no import cycle
joins the project's modules (a cycle is what the house rules forbid)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("adaptsim", "nbody", "rl_agents", "rom")


def modules() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def test_every_module_is_in_the_architecture_document():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [str(path.relative_to(ROOT)) for path in modules() if f"`{path.relative_to(ROOT).as_posix()}`" not in text]
    assert not missing, f"add to docs/architecture.md: {missing}"


def test_no_import_cycle_between_project_modules():
    names = {".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): path for path in modules()}
    graph: dict[str, set[str]] = {}
    for name, path in names.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            edges |= {target for target in targets if target in names and target != name}
        graph[name] = edges
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for successor in sorted(graph[node]):
            if state.get(successor) == 1:
                raise AssertionError(" -> ".join([*stack[stack.index(successor) :], successor]))
            if successor not in state:
                visit(successor, [*stack, successor])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
