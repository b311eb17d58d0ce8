"""Start-up: the CLI's import chain loads no heavy optional library, and no modules import each other in a circle."""

import ast
import subprocess
import sys
from pathlib import Path

import benchmark

#: Libraries a run does not need to start: each costs 0.2–2 s to import (or pulls in one that does).
HEAVY = ("sklearn", "scipy", "pandas", "transformers", "datasets", "wandb", "torch._dynamo")


def test_importing_the_cli_loads_no_heavy_library():
    # A fresh interpreter: in this one, other tests may already have imported them.
    code = f"import sys, benchmark.experiment; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []


def module_imports(path: Path, package_root: Path) -> tuple[str, set[str]]:
    """A module's dotted name and the ``benchmark`` modules its top-level statements import (with their packages)."""
    name = ".".join(path.relative_to(package_root.parent).with_suffix("").parts).removesuffix(".__init__")
    targets: set[str] = set()
    for node in ast.parse(path.read_text()).body:  # top level only: imports inside functions run later
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets.add(node.module)
            targets.update(f"{node.module}.{alias.name}" for alias in node.names)
    modules = set()
    for target in targets:
        parts = target.split(".")
        modules.update(".".join(parts[:i]) for i in range(2, len(parts) + 1) if parts[0] == "benchmark")
    return name, modules


def test_no_import_cycles():
    root = Path(benchmark.__file__).parent
    graph = dict(module_imports(path, root) for path in root.rglob("*.py"))
    graph = {name: {t for t in targets if t in graph and t != name} for name, targets in graph.items()}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph[name]):
            assert state.get(target) != 1, f"import cycle: {' -> '.join([*path[path.index(target):], target])}"
            if target not in state:
                visit(target, [*path, target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
