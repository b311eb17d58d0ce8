"""No import cycle among the modules of benchmark/ and plots/, counting every import: module-level, inside a
function, and under TYPE_CHECKING (docs/architecture.md gives the layer order this keeps)."""

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("benchmark", "plots")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, known: set[str]) -> set[str]:
    """The project modules ``path`` imports anywhere in its body (a package's ``__init__`` counts as its name)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # ``from package import module`` imports that module; ``from module import name`` the module itself
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module
                     for a in node.names]
        found |= {name for name in names if name in known}
    return found


def import_graph() -> dict[str, set[str]]:
    files = {module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    return {name: imports(path, set(files)) - {name} for name, path in files.items()}


def test_there_is_no_import_cycle():
    graph = import_graph()
    assert "benchmark.spec" in graph and "benchmark.config" in graph["benchmark.spec"]
    try:
        list(TopologicalSorter(graph).static_order())
    except CycleError as err:
        raise AssertionError(f"import cycle: {' -> '.join(err.args[1])}") from err


def test_the_lower_layers_never_import_the_run_machinery():
    graph = import_graph()
    low = ("benchmark.errors", "benchmark.rng", "benchmark.metrics", "benchmark.config", "benchmark.pairings",
           "benchmark.memory")
    for name in low:
        assert not graph[name] & {"benchmark.spec", "benchmark.loggers", "benchmark.runner", "benchmark.data"} or (
            name == "benchmark.memory" and "benchmark.data" not in graph[name] and "benchmark.spec" in graph[name]
        ), (name, graph[name])


#: Split by the results-page work (issue 21); every other function is held to the limit.
LONG_ALLOWED = {"plots/results_page.py"}
MAX_FUNCTION_LINES = 50


def test_no_function_is_longer_than_fifty_lines():
    long = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if str(path.relative_to(ROOT)) in LONG_ALLOWED:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = node.end_lineno - node.lineno + 1
                    if lines > MAX_FUNCTION_LINES:
                        long.append(f"{path.relative_to(ROOT)}:{node.name} ({lines} lines)")
    assert not long, long
