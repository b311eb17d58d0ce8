"""Seconds of an offline W&B run's ``wandb.init`` + ``finish``: ``python -m benchmark.perf wandb [--runs N]``.

Each variant runs in a fresh process (W&B starts its service once per process): ``runs`` offline runs in turn,
each as arm-bench opens one (its settings, ``n_labels`` as the step metric, 9 rounds of metrics, a summary,
finish), in a throwaway folder. The first run of a process pays the service's start; the later ones are what each
further job of a sweep worker pays. ``W&B defaults`` is the same call without arm-bench's ``LEAN_SETTINGS``
(benchmark/loggers.py); each ``without`` row drops one of them, to show what it saves.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from benchmark.loggers import LEAN_SETTINGS

ROUNDS = 9


def time_runs(extra: dict[str, Any], runs: int) -> list[float]:
    """Seconds of each of ``runs`` offline runs opened, logged and closed in this process with ``extra`` settings."""
    import wandb

    seconds = []
    for index in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            settings = wandb.Settings(silent=True, init_timeout=90, finish_timeout=90, **extra)
            run = wandb.init(mode="offline", dir=folder, settings=settings, project="arm-bench-perf",
                             name=f"run-{index}", config={"seed": index})
            run.define_metric("n_labels")
            run.define_metric("*", step_metric="n_labels")
            for round_index in range(ROUNDS):
                run.log({"n_labels": 125 * (round_index + 1), "spearman": 0.5, "bon/20": 0.1})
            run.summary.update({"final/spearman": 0.5})
            run.finish(exit_code=0)
            seconds.append(time.perf_counter() - start)
    return seconds


def variants() -> dict[str, dict[str, Any]]:
    """arm-bench's settings, W&B's defaults, and arm-bench's without each one of its settings."""
    rows = {"arm-bench (LEAN_SETTINGS)": dict(LEAN_SETTINGS), "W&B defaults": {}}
    for key in LEAN_SETTINGS:
        rows[f"without {key}"] = {k: v for k, v in LEAN_SETTINGS.items() if k != key}
    return rows


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmark.perf wandb", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=4, help="offline runs per process (default 4)")
    parser.add_argument("--variant", help=argparse.SUPPRESS)  # internal: time one variant in this process
    options = parser.parse_args(argv)
    if options.variant is not None:
        print(json.dumps(time_runs(json.loads(options.variant), options.runs)))
        return
    print(f"offline wandb.init + {ROUNDS} logs + finish, seconds per run ({options.runs} runs per process)")
    print(f"{'settings':<36}{'first run':>10}{'later runs (median)':>22}")
    for name, extra in variants().items():
        done = subprocess.run([sys.executable, "-m", "benchmark.perf", "wandb", "--runs", str(options.runs),
                               "--variant", json.dumps(extra)], capture_output=True, text=True, check=True)
        seconds = json.loads(done.stdout.strip().splitlines()[-1])
        later = statistics.median(seconds[1:]) if len(seconds) > 1 else float("nan")
        print(f"{name:<36}{seconds[0]:>10.2f}{later:>22.3f}")
