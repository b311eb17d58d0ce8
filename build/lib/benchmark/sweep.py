"""Multiruns that survive a bad job, know their own folder and say how far they are.

Hydra calls :class:`SweepCallback` around runs and sweeps (``hydra.callbacks`` in conf/config.yaml):

* ``on_multirun_start``: names the sweep's folder (``+sweep=NAME`` keeps ``NAME``; a plain ``-m`` sweep gets
  ``adhoc-<swept keys>-<hash of its overrides>``, so unrelated sweeps never share a folder and rerunning one
  finds its folder again), counts its jobs and starts the clock. Jobs learn these through environment
  variables, which the joblib and submitit launchers pass on to their worker processes.
* each job appends one line to ``<sweep>/jobs.jsonl`` (status, one-line reason) and logs ``job k/N`` with the
  elapsed time and an estimate of what is left;
* ``on_multirun_end``: writes ``<sweep>/sweep_summary.json`` and exits 1 with the failed jobs listed.
* ``on_run_start``: remembers what a single run's folder held before Hydra wrote into it, so a run that
  fails before round 0 removes only what it created (:func:`remove_what_this_run_created`).
"""

import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from benchmark.config import SWEEP_NAME_VARIABLE
from benchmark.lock import RunLock, RunLocked
from benchmark.outputs import RunFolder, atomic_write_json
from benchmark.spec import is_run_only, override_key, short_hash

log = logging.getLogger(__name__)

ID_VARIABLE = "ARM_BENCH_SWEEP_ID"
TOTAL_VARIABLE = "ARM_BENCH_SWEEP_TOTAL"
STARTED_VARIABLE = "ARM_BENCH_SWEEP_STARTED"
JOBS_FILE = "jobs.jsonl"
SUMMARY_FILE = "sweep_summary.json"
#: Files Hydra writes into a run folder before any result (what a failed start may leave, and may remove).
BOOKKEEPING = re.compile(r"^(\.hydra(/.*)?|[^/]*\.log)$")
#: The run lock's files: they may stay behind, but are never deleted (a waiter may hold that very inode).
LOCK_FILES = re.compile(r"^\.lock(\.holder)?$")

_before_run: dict[Path, set[str] | None] = {}


def sweep_folder_name(choice: str | None, overrides: list[str]) -> str:
    """``choice`` for a named sweep file; else ``adhoc-<swept keys>-<hash of the result-defining overrides>``."""
    if choice:
        return choice
    defining = sorted(o for o in overrides if not is_run_only(override_key(o)))
    swept = [override_key(o) for o in defining if "," in o or "(" in o.split("=", 1)[-1]]
    stem = re.sub(r"[^A-Za-z0-9_.+-]", "_", "+".join(swept) or "jobs")[:60]
    return f"adhoc-{stem}-{short_hash(defining)}"


def current_sweep_name() -> str | None:
    if HydraConfig.initialized():
        choice = HydraConfig.get().runtime.choices.get("sweep")
        if choice:
            return str(choice)
    return os.environ.get(SWEEP_NAME_VARIABLE)


def count_jobs(config: DictConfig) -> int | None:
    """Jobs of a basic-sweeper grid (its own splitting code); None for other sweepers."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    if not str(config.hydra.sweeper.get("_target_", "")).endswith("BasicSweeper"):
        return None
    params = [f"{k}={v}" for k, v in (config.hydra.sweeper.get("params") or {}).items()]
    overrides = OverridesParser.create().parse_overrides([*params, *config.hydra.overrides.task])
    return sum(len(batch) for batch in BasicSweeper.split_arguments(overrides, None))


def _resolved(config: DictConfig, key: str) -> Path:
    HydraConfig.instance().set_config(config)
    return Path(str(OmegaConf.select(config, key)))


class SweepCallback(Callback):
    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        folder = _resolved(config, "hydra.run.dir").resolve()
        if folder.exists():
            _refuse_if_locked(folder)
        _before_run[folder] = _listing(folder) if folder.exists() else None
        _make_or_exit(folder)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        choice = config.hydra.runtime.choices.get("sweep")
        name = sweep_folder_name(choice, list(config.hydra.overrides.task))
        os.environ[SWEEP_NAME_VARIABLE] = name
        os.environ[ID_VARIABLE] = f"{os.getpid()}-{time.time_ns()}"
        os.environ[STARTED_VARIABLE] = str(time.time())
        total = count_jobs(config)
        if total is not None:
            os.environ[TOTAL_VARIABLE] = str(total)
        self.folder = _resolved(config, "hydra.sweep.dir")
        _make_or_exit(self.folder)
        log.info("sweep %s: %s jobs -> %s", name, total if total is not None else "?", self.folder)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_id = os.environ.get(ID_VARIABLE)
        jobs = {line["run"]: line for line in _job_lines(self.folder) if line.get("sweep_id") == sweep_id}
        failed = sorted(run for run, line in jobs.items() if line["status"] != "finished")
        atomic_write_json(self.folder / SUMMARY_FILE, {
            "sweep": os.environ.get(SWEEP_NAME_VARIABLE), "jobs": len(jobs), "expected_jobs": _total(),
            "finished": len(jobs) - len(failed),
            "failed": [{"run": run, "status": jobs[run]["status"], "reason": jobs[run].get("reason")}
                       for run in failed],
        })
        for variable in (SWEEP_NAME_VARIABLE, ID_VARIABLE, TOTAL_VARIABLE, STARTED_VARIABLE):
            os.environ.pop(variable, None)
        if failed:
            lines = "\n".join(f"  {run}: {jobs[run].get('reason')}" for run in failed)
            print(f"arm-bench: {len(failed)} of {len(jobs)} jobs failed (rerun the sweep to retry only them; "
                  f"{self.folder / SUMMARY_FILE}):\n{lines}", file=sys.stderr)
            sys.exit(1)


def _refuse_if_locked(folder: Path) -> None:
    """A single run on a folder another process is writing stops before Hydra writes its files into it."""
    lock = RunLock(folder)
    if not lock.path.exists():  # never locked: nobody holds it (and probing would add a file to the folder)
        return
    try:
        lock.acquire(wait=False)
    except RunLocked as err:
        print(f"arm-bench: error: {err}", file=sys.stderr)
        sys.exit(2)
    lock.release()


def _make_or_exit(folder: Path) -> None:
    """Create the output folder now, so an unusable ``output_root`` is one line and exit 2, not Hydra's traceback."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        print(f"arm-bench: error: cannot create the output folder {folder} ({err.strerror}); set output_root (or "
              "hydra.run.dir) to a writable folder", file=sys.stderr)
        sys.exit(2)


def _total() -> int | None:
    total = os.environ.get(TOTAL_VARIABLE)
    return int(total) if total else None


def _job_lines(folder: Path) -> list[dict[str, Any]]:
    path = folder / JOBS_FILE
    if not path.exists():
        return []
    lines = []
    for text in path.read_text().splitlines():
        try:
            lines.append(json.loads(text))
        except ValueError:
            continue  # a torn line of a killed job; the summary counts what it can read
    return lines


def record_job(run_dir: Path, status: str, reason: str | None) -> None:
    """Append this job's outcome to the sweep's ``jobs.jsonl`` and log ``job k/N`` with elapsed time and ETA."""
    from filelock import FileLock

    folder = run_dir.parent
    line = {"sweep_id": os.environ.get(ID_VARIABLE), "run": run_dir.name, "status": status, "reason": reason,
            "time": time.time()}
    with FileLock(str(folder / f".{JOBS_FILE}.lock")):
        with open(folder / JOBS_FILE, "a") as handle:
            handle.write(json.dumps(line) + "\n")
        done = sum(1 for job in _job_lines(folder) if job.get("sweep_id") == line["sweep_id"])
    started, total = float(os.environ.get(STARTED_VARIABLE, time.time())), _total()
    elapsed = time.time() - started
    left = f", about {elapsed / done * (total - done):.0f}s left" if total and done < total else ""
    log.info("job %d/%s: %s after %.0fs%s", done, total or "?", status, elapsed, left)


def record_failure(run_dir: Path, reason: str) -> None:
    """A job that failed: its summary says so (unless it holds a finished run) and the sweep's list gets it."""
    folder = RunFolder(run_dir)
    previous = None
    try:
        previous = folder.read_summary()
    except Exception:  # a damaged summary is replaced by the failure record
        previous = None
    if previous is None or previous.get("status") != "finished":
        if previous is None or previous.get("status") not in ("failed", "interrupted"):
            previous = {"failed_round": 0, "rounds_completed": 0}  # it failed before its first round
        atomic_write_json(folder.summary, {**previous, "status": "failed", "reason": reason})
    record_job(run_dir, "failed", reason)


@contextmanager
def logs_named(run: str) -> Iterator[None]:
    """Prefix every log line with the run's folder name, so interleaved parallel jobs stay readable."""

    def prefix(record: logging.LogRecord) -> bool:
        if not getattr(record, "arm_run", None):
            record.arm_run = run
            record.msg = f"[{run}] {record.msg}"
        return True

    handlers = logging.getLogger().handlers
    for handler in handlers:
        handler.addFilter(prefix)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(prefix)


def _listing(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


def remove_what_this_run_created(folder: Path) -> None:
    """After a run that failed before writing a result: delete what this process created there, nothing else.

    Only Hydra's files and the lock can be new in such a folder; if anything else is new (a round was written),
    everything stays. A folder that existed before keeps every entry it had.
    """
    folder = folder.resolve()
    if folder not in _before_run or not folder.is_dir():
        return
    before = _before_run.pop(folder)
    created = sorted(_listing(folder) - (before or set()), key=lambda p: p.count("/"), reverse=True)
    if not all(BOOKKEEPING.match(path) or LOCK_FILES.match(path) for path in created):
        return
    for relative in (path for path in created if BOOKKEEPING.match(path)):
        path = folder / relative
        if path.is_dir():
            if not any(path.iterdir()):
                path.rmdir()
        else:
            path.unlink(missing_ok=True)
    if before is None and not any(folder.iterdir()):
        folder.rmdir()
