"""A wheel built from the repository carries its configs and sweeps and runs on its own.

Built from a copy of the tree (building in place leaves build/ behind), installed without dependencies into a
temporary target, and run from a temporary directory where the checkout is not importable: the installed
copy must find its conf/, its sweep files and the plot command by itself.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import TINY

REPO = Path(__file__).resolve().parents[1]


def copy_tree(target: Path) -> None:
    """The files git would ship (tracked and new, not ignored), links kept as links."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            destination.symlink_to(os.readlink(source))
        elif source.is_file():
            shutil.copy2(source, destination)


def test_installed_wheel_runs_sweeps_and_plots_without_the_checkout(tmp_path: Path):
    tree, wheels, target, work = (tmp_path / name for name in ("tree", "wheels", "site", "work"))
    copy_tree(tree)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(tree)], check=True,
                   capture_output=True, timeout=300)
    wheel = next(wheels.glob("arm_bench-*.whl"))
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True,
                   capture_output=True, timeout=300)
    assert (target / "benchmark" / "conf" / "sweep" / "smoke.yaml").is_file()
    assert not (target / "benchmark" / "conf").is_symlink()
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target), "ARM_BENCH_CACHE": str(tmp_path / "cache")}

    def run(script: str, *args: str) -> str:
        done = subprocess.run([str(target / "bin" / script), *args], cwd=work, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return done.stdout + done.stderr

    show = "import benchmark, plots; print(benchmark.__file__, plots.__file__)"
    located = subprocess.run([sys.executable, "-c", show], cwd=work, env=env, capture_output=True, text=True,
                             check=True).stdout
    assert str(REPO) not in located and str(target) in located
    run("arm-bench", *TINY)
    assert len(list((target / "benchmark" / "data" / "real_text").glob("*.npy"))) == 4
    run("arm-bench", "dataset=real_text", "logger=none", "reward_model.width=8", "reward_model.steps=5",
        "prompts_per_round=10", "candidates_per_round=100", "initial_labels=10", "batch.size=10", "budget=10")
    real = json.loads(next((work / "outputs" / "runs").glob("*dataset=real_text*/summary.json")).read_text())
    assert real["status"] == "finished" and len(real["data_checksums"]) == 4
    assert "effective_rank" in run("arm-bench-card", "dataset=real_text")
    run("arm-bench", "-m", "+sweep=smoke", "selector=random", "seed=0")
    sweep = work / "outputs" / "multirun" / "smoke"
    assert json.loads(next(sweep.glob("*/summary.json")).read_text())["status"] == "finished"
    run("arm-bench-plot", str(sweep))
    assert (sweep / "plots" / "summary.md").is_file()
