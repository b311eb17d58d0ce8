"""No import cycle among the modules of benchmark/ and plots/, counting every import: module-level, inside a
function, and under TYPE_CHECKING; every module sits in the layer table of docs/architecture.md and imports only
below its layer; no function is over fifty lines."""

import ast
import re
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


#: Package folders whose modules may import each other within their layer.
FOLDERS = ("selectors", "data", "build", "perf", "plots")


def documented_layers() -> dict[str, int]:
    """``module or folder -> layer`` from the layer table of docs/architecture.md (the one home of the order)."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    table = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    layers = {}
    for row in re.findall(r"^\| (\d+) \| (.+?) \|", table, flags=re.MULTILINE):
        for name in re.findall(r"`([^`]+)`", row[1]):
            layers[name.rstrip("/")] = int(row[0])
    return layers


def layer_key(module: str) -> str:
    """The table's name for a module: ``plots`` for any plots module, ``selectors`` for benchmark.selectors.*."""
    parts = module.split(".")
    if parts[0] == "plots":
        return "plots"
    if len(parts) == 1:
        return "__init__"
    return parts[1]


def imports_against(graph: dict[str, set[str]], layers: dict[str, int]) -> list[str]:
    """Imports of a module from its own layer or above (outside its own package folder)."""
    against = []
    for module, imported in sorted(graph.items()):
        own = layer_key(module)
        for other in sorted(imported):
            theirs = layer_key(other)
            if layers[theirs] >= layers[own] and not (own == theirs and own in FOLDERS):
                against.append(f"{module} (layer {layers[own]}) imports {other} (layer {layers[theirs]})")
    return against


def test_every_module_has_a_layer_and_imports_only_below_it():
    layers, graph = documented_layers(), import_graph()
    assert layers["errors"] == 1 and layers["runner"] > layers["loop"] > layers["spec"]
    unplaced = sorted(m for m in graph if layer_key(m) not in layers)
    assert not unplaced, f"add these modules to the layer table of docs/architecture.md: {unplaced}"
    assert not imports_against(graph, layers)


def test_the_check_refuses_an_import_against_the_order():
    """The rule can fail: the run machinery importing the CLI, or two modules of one layer importing each other."""
    layers = documented_layers()
    graph = {"benchmark.runner": {"benchmark.experiment"}, "benchmark.pools": {"benchmark.lock"},
             "benchmark.selectors.dopt": {"benchmark.selectors.base"}}
    assert imports_against(graph, layers) == ["benchmark.pools (layer 4) imports benchmark.lock (layer 4)",
                                              "benchmark.runner (layer 9) imports benchmark.experiment (layer 11)"]


MAX_FUNCTION_LINES = 50


def test_no_function_is_longer_than_fifty_lines():
    long = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = node.end_lineno - node.lineno + 1
                    if lines > MAX_FUNCTION_LINES:
                        long.append(f"{path.relative_to(ROOT)}:{node.name} ({lines} lines)")
    assert not long, long
