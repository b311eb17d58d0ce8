"""The core install runs experiments; only ``arm-bench-build`` needs the ``[build]`` extra, and says so when missing."""

import ast
import sys
from importlib import metadata
from pathlib import Path

import pytest

from benchmark.build import app

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "benchmark" / "build"


def imported_distributions(path: Path) -> set[str]:
    """Distributions a module imports anywhere (inside functions too), by the installed import-name map."""
    tops = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            tops.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            tops.add(node.module.split(".")[0])
    tops -= {*sys.stdlib_module_names, "benchmark", "plots", "tests"}
    owners = metadata.packages_distributions()
    return {dist.lower() for top in tops for dist in owners.get(top, [top])}


def test_the_build_imports_only_core_and_build_extra_packages():
    allowed = app.requirements() | app.requirements("build")
    for path in BUILD.rglob("*.py"):
        assert imported_distributions(path) <= allowed, path


def test_nothing_outside_the_build_imports_a_build_only_package():
    build_only = app.requirements("build") - app.requirements()
    assert {"transformers", "datasets"} <= build_only
    for root in (REPO / "benchmark", REPO / "plots"):
        for path in root.rglob("*.py"):
            if BUILD not in path.parents:
                assert not imported_distributions(path) & build_only, path


def test_without_the_build_extra_the_command_says_what_to_install(monkeypatch, capsys):
    real_version = metadata.version

    def version(name: str) -> str:
        if name == "datasets":
            raise metadata.PackageNotFoundError(name)
        return real_version(name)

    monkeypatch.setattr(app.metadata, "version", version)
    with pytest.raises(SystemExit) as stop:
        app.main()
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("arm-bench-build: error: datasets not installed")
    assert "pip install 'arm-bench[build]'" in err


def test_a_launcher_from_a_missing_extra_names_the_extra(monkeypatch, capsys):
    from omegaconf import OmegaConf

    from benchmark import sweep

    monkeypatch.setattr(sweep, "EXTRA_LAUNCHERS", {"hydra_plugins.not_installed_launcher": "ray"})
    config = OmegaConf.create({"hydra": {"launcher": {"_target_": "hydra_plugins.not_installed_launcher.X"}}})
    with pytest.raises(SystemExit) as stop:
        sweep._require_launcher_plugin(config)
    assert stop.value.code == 2
    assert capsys.readouterr().err == ("arm-bench: error: hydra/launcher=ray needs the [ray] extra; pip install "
                                       "'arm-bench[ray]' (from a checkout: pip install -e '.[ray]')\n")
    sweep._require_launcher_plugin(OmegaConf.create({"hydra": {"launcher": {"_target_": "hydra_plugins.x"}}}))
