"""Running the results page's sweeps through the real CLI, and the wall time they took (``results_timing.json``).

Finished runs are skipped by the CLI itself, so a rerun only computes what is missing; a sweep's time is recorded
only when it computed something, so a rerun that merely skips keeps the time of the runs that did the work.
"""

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmark.errors import UserError
from benchmark.outputs import RunFolder, atomic_write_json
from benchmark.sweep import SUMMARY_FILE

TIMING_FILE = "results_timing.json"


def sweep_folder(root: Path, name: str) -> Path:
    return root / "multirun" / name


def sweep_command(name: str, root: Path, overrides: Sequence[str]) -> list[str]:
    """The documented CLI call, from the same environment as this Python."""
    executable = Path(sys.executable).with_name("arm-bench")
    return [str(executable), "-m", f"+sweep={name}", "hydra/launcher=joblib", "logger=none",
            f"output_root={root}", *overrides]


def machine() -> dict[str, Any]:
    """Cores this process may use and the CPU model, as the page reports them."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        models = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                  if line.startswith("model name")]
        cpu = models[0] if models else cpu
    return {"cores": cores, "cpu": cpu}


def read_timing(root: Path) -> dict[str, Any]:
    path = root / TIMING_FILE
    return json.loads(path.read_text()) if path.exists() else {"sweeps": {}}


def runs_computed_since(folder: Path, started: float) -> int:
    """Run folders that trained a round since ``started``: a skipped finished run writes no metrics."""
    return sum(1 for path in folder.rglob(RunFolder.METRICS) if path.stat().st_mtime >= started)


def run_sweeps(root: Path, overrides: Sequence[str], names: Sequence[str]) -> None:
    """Run each sweep of ``names``; add its wall time to ``<root>/results_timing.json`` when it computed something."""
    timing = read_timing(root)
    for name in names:
        command = sweep_command(name, root, overrides)
        print("+ " + " ".join(command), flush=True)
        started = time.time()
        code = subprocess.run(command, check=False).returncode
        elapsed = time.time() - started
        summary = sweep_folder(root, name) / SUMMARY_FILE
        if code != 0 and not (code == 1 and summary.exists() and summary.stat().st_mtime >= started):
            raise UserError(f"sweep {name} stopped with exit code {code} before finishing its jobs (see its "
                            "message above); fix that and rerun")
        computed = runs_computed_since(sweep_folder(root, name), started)
        print(f"{name}: {elapsed / 60:.1f} min, {computed} run(s) computed", flush=True)
        if computed:
            entry = timing["sweeps"].setdefault(name, {"seconds": 0.0, "runs_computed": 0})
            entry.update(seconds=entry["seconds"] + elapsed, runs_computed=entry["runs_computed"] + computed,
                         overrides=list(overrides))
            timing.update(machine())
            atomic_write_json(root / TIMING_FILE, timing)
