"""Multiruns that survive a bad job, know their own folder and say how far they are.

Hydra calls :class:`SweepCallback` around runs and sweeps (``hydra.callbacks`` in conf/config.yaml):

* ``on_multirun_start``: names the sweep's folder (``+sweep=NAME`` keeps ``NAME``; a plain ``-m`` sweep gets
  ``adhoc-<swept keys>-<hash of its overrides>``, so unrelated sweeps never share a folder and rerunning one
  finds its folder again), counts its jobs and starts the clock. Jobs learn these through environment
  variables, which the joblib and submitit launchers pass on to their worker processes.
* each job appends one line to ``<sweep>/jobs.jsonl`` (status, ``skipped`` for a run already finished, one-line
  reason, its own seconds) and logs ``job k/N`` with its own time, the sweep's and an estimate of what is left;
* ``on_multirun_end``: writes ``<sweep>/sweep_summary.json``, ends with one line listing the finished runs it
  returned although their inputs changed since they ran (:mod:`benchmark.stale`), and exits 1 with the failed jobs
  listed.
* SIGTERM or SIGINT to the sweep's parent ends every job (:meth:`SweepCallback.stop`): it passes SIGTERM on to its
  worker processes, whose running jobs record ``interrupted`` after their last complete round and exit, waits for
  them (killing what is left after :data:`STOP_SECONDS`, and recording the job of any worker killed before it
  recorded itself as interrupted in its stead), writes ``sweep_summary.json`` and exits 128 + the signal.
  A job that runs in the parent itself (the basic launcher) is interrupted like a single run. A worker whose parent
  was killed, or that missed the signal, stops by itself at its next round's end (:func:`sweep_stopping`).
* ``on_run_start``: remembers what a single run's folder held before Hydra wrote into it, so a run that
  fails before round 0 removes only what it created (:func:`remove_what_this_run_created`).
"""

import contextlib
import json
import logging
import os
import re
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from errno import EDQUOT, ENOSPC
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from benchmark import stale
from benchmark.choices import check_sweep_values, sweep_overrides
from benchmark.errors import Interrupted, UserError
from benchmark.lock import HOLDER_NAME, LOCK_NAME, RunLock, RunLocked, process_start
from benchmark.outputs import RunFolder, atomic_write_json
from benchmark.spec import SWEEP_NAME_VARIABLE, is_run_only, override_key, short_hash

log = logging.getLogger(__name__)

ID_VARIABLE = "ARM_BENCH_SWEEP_ID"
TOTAL_VARIABLE = "ARM_BENCH_SWEEP_TOTAL"
STARTED_VARIABLE = "ARM_BENCH_SWEEP_STARTED"
#: ``<pid>:<start time>`` of the sweep's parent process, so a worker can tell that its parent is gone.
PARENT_VARIABLE = "ARM_BENCH_SWEEP_PARENT"
#: Seconds the parent waits for its workers to record their interruption before killing what is left.
STOP_SECONDS = 10.0
#: Written into the sweep's folder (holding the sweep's id) when it is stopped: a job that missed the signal (a
#: launcher that ignores SIGTERM while a job starts, as submitit's does) stops when it next looks.
STOP_FILE = ".stopping"
JOBS_FILE = "jobs.jsonl"
SUMMARY_FILE = "sweep_summary.json"
SKIPPED = "skipped"  # a job whose folder already held its finished run
#: Files Hydra writes into a run folder before any result (what a failed start may leave, and may remove).
BOOKKEEPING = re.compile(r"^(\.hydra(/.*)?|[^/]*\.log)$")
#: The run lock's files: they may stay behind, but are never deleted (a waiter may hold that very inode).
LOCK_FILES = frozenset({LOCK_NAME, HOLDER_NAME})

_before_run: dict[Path, set[str] | None] = {}
#: Whether a job is running in this process (the basic launcher): a signal then interrupts it like a single run.
_job_here = False


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

    if not str(config.hydra.sweeper.get("_target_", "")).endswith("BasicSweeper"):
        return None
    return sum(len(batch) for batch in BasicSweeper.split_arguments(sweep_overrides(config), None))


def _resolved(config: DictConfig, key: str) -> Path:
    HydraConfig.instance().set_config(config)
    return Path(str(OmegaConf.select(config, key)))


class SweepCallback(Callback):
    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        folder = _resolved(config, "hydra.run.dir").resolve()
        if RunFolder(folder).read_only:  # only a finished run can be returned from it (benchmark/runner.py)
            _hydra_writes_nothing(config)
            return
        if folder.exists():
            _refuse_if_locked(folder)
        _before_run[folder] = _listing(folder) if folder.exists() else None
        _make_or_exit(folder)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        _require_launcher_plugin(config)
        try:
            check_sweep_values(config)
        except UserError as err:
            print(f"arm-bench: error: {err}", file=sys.stderr)
            sys.exit(2)
        choice = config.hydra.runtime.choices.get("sweep")
        name = sweep_folder_name(choice, list(config.hydra.overrides.task))
        os.environ[SWEEP_NAME_VARIABLE] = name
        os.environ[ID_VARIABLE] = f"{os.getpid()}-{time.time_ns()}"
        os.environ[STARTED_VARIABLE] = str(time.time())
        os.environ[PARENT_VARIABLE] = f"{os.getpid()}:{process_start(os.getpid())}"
        total = count_jobs(config)
        if total is not None:
            os.environ[TOTAL_VARIABLE] = str(total)
        self.folder = _resolved(config, "hydra.sweep.dir")
        _make_or_exit(self.folder)
        log.info("sweep %s: %s jobs -> %s", name, total if total is not None else "?", self.folder)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self.stop)

    def stop(self, signum: int, frame: Any) -> None:
        """SIGTERM/SIGINT to the parent: end every job cleanly, write the sweep's summary, exit 128 + signum."""
        if _job_here:  # the job runs in this process: it records its interruption, then the sweep stops
            if signum == signal.SIGTERM:
                raise Interrupted(f"signal {signal.Signals(signum).name}")
            raise KeyboardInterrupt
        with contextlib.suppress(OSError):  # the signal still reaches the workers
            (self.folder / STOP_FILE).write_text(os.environ.get(ID_VARIABLE, ""))
        record_killed_jobs(self.folder, stop_workers())
        end_interrupted(self.folder, signum)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)
        jobs, failed, changed = write_summary(self.folder)
        skipped = sum(line["status"] == SKIPPED for line in jobs.values())
        log.info("sweep %s: %d jobs ran, %d skipped (already finished), %d failed", os.environ.get(
            SWEEP_NAME_VARIABLE), len(jobs) - skipped - len(failed), skipped, len(failed))
        for variable in (SWEEP_NAME_VARIABLE, ID_VARIABLE, TOTAL_VARIABLE, STARTED_VARIABLE, PARENT_VARIABLE):
            os.environ.pop(variable, None)
        if failed:
            lines = "\n".join(f"  {run}: {jobs[run].get('reason')}" for run in failed)
            print(f"arm-bench: {len(failed)} of {len(jobs)} jobs failed (rerun the sweep to retry only them; "
                  f"{self.folder / SUMMARY_FILE}):\n{lines}", file=sys.stderr)
        if changed:
            listed = "; ".join(f"{run} ({', '.join(changes)})" for run, changes in changed.items())
            print(f"arm-bench: {len(changed)} finished run(s) returned with their old results although their inputs "
                  f"changed since they ran; pass overwrite=true to redo them: {listed}", file=sys.stderr)
        if failed:
            sys.exit(1)


def write_summary(folder: Path) -> tuple[dict[str, dict[str, Any]], list[str], dict[str, list[str]]]:
    """Write ``sweep_summary.json`` from this sweep's lines of ``jobs.jsonl``; returns the jobs, the runs that did not
    finish (``finished`` counts the runs this sweep finished; ``skipped``, those it found finished, are neither)
    and the finished runs whose inputs changed since they ran. A full disk is one line, not a traceback."""
    sweep_id = os.environ.get(ID_VARIABLE)
    jobs = {line["run"]: line for line in _job_lines(folder) if line.get("sweep_id") == sweep_id}
    failed = sorted(run for run, line in jobs.items() if line["status"] not in ("finished", SKIPPED))
    skipped = sum(line["status"] == SKIPPED for line in jobs.values())
    changed = {run: line[stale.KEY] for run, line in sorted(jobs.items()) if line.get(stale.KEY)}
    try:
        atomic_write_json(folder / SUMMARY_FILE, {
            "sweep": os.environ.get(SWEEP_NAME_VARIABLE), "jobs": len(jobs), "expected_jobs": _total(),
            "finished": len(jobs) - len(failed) - skipped, "skipped": skipped,
            "failed": [{"run": run, "status": jobs[run]["status"], "reason": jobs[run].get("reason")}
                       for run in failed],
            stale.KEY: [{"run": run, "changes": changes} for run, changes in changed.items()],
        })
    except OSError as err:
        print(f"arm-bench: cannot write {folder / SUMMARY_FILE}: {os_reason(err, folder / SUMMARY_FILE)}",
              file=sys.stderr)
    return jobs, failed, changed


def os_reason(err: OSError, path: Path) -> str:
    """One line for an OSError while writing ``path``: ``no space left on <path>`` for a full disk."""
    if err.errno in (ENOSPC, EDQUOT):
        return f"no space left on {err.filename or path}; free some space and rerun the same command"
    return f"{err.strerror or err} ({err.filename or path})"


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc), children first."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(parent, []).append(int(entry.name))
    found, queue = [], list(parents.get(pid, []))
    while queue:
        child = queue.pop(0)
        found.append(child)
        queue += parents.get(child, [])
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has ended; its parent just has not reaped it


def _ignores_sigterm(pid: int) -> bool:
    """Whether ``pid`` ignores SIGTERM (its ``SigIgn`` mask): helpers such as resource trackers, which run nothing."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigIgn:"):
                return bool(int(line.split()[1], 16) >> (signal.SIGTERM - 1) & 1)
    except (OSError, ValueError, IndexError):
        pass
    return False


def stop_workers() -> set[int]:
    """SIGTERM to every process of the sweep below this one; SIGKILL to any left after :data:`STOP_SECONDS`, or at
    once to those that ignore SIGTERM. Returns every process it stopped (all have ended when it returns)."""
    workers = _descendants(os.getpid())
    for pid in workers:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + STOP_SECONDS
    while time.monotonic() < deadline and any(_running(p) and not _ignores_sigterm(p) for p in workers):
        time.sleep(0.1)
    for pid in filter(_running, workers):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
    return set(workers)


def record_killed_jobs(folder: Path, stopped: set[int]) -> None:
    """A worker that ended without writing its job's line was killed: by the parent after :data:`STOP_SECONDS`, or
    by the launcher's own pool (loky kills the other workers the moment one exits), perhaps after its run recorded
    itself. Its job is listed as interrupted all the same, found by the holder file a killed run leaves behind, or
    by the run's own ``interrupted`` summary written since the sweep started. The run resumes from its last
    complete round, as after any kill."""
    sweep_id = os.environ.get(ID_VARIABLE)
    started = float(os.environ.get(STARTED_VARIABLE, 0))
    recorded = {line["run"] for line in _job_lines(folder) if line.get("sweep_id") == sweep_id}
    for run_dir in sorted(path for path in folder.iterdir() if path.is_dir() and path.name not in recorded):
        holder, summary = run_dir / HOLDER_NAME, RunFolder(run_dir).summary
        try:
            if holder.exists() and json.loads(holder.read_text()).get("pid") in stopped:
                began = holder.stat().st_mtime  # written as the run began
            elif summary.exists() and summary.stat().st_mtime >= started and \
                    json.loads(summary.read_text()).get("status") == "interrupted":
                began = started
            else:
                continue
        except (OSError, ValueError, AttributeError):
            continue
        reason = "interrupted (killed before it could record its interruption; its last complete round is kept)"
        record_job(run_dir, "interrupted", reason, started=began)


def end_interrupted(folder: Path, signum: int) -> None:
    """The sweep stops on a signal: its summary lists the interrupted jobs; one line; exit 128 + ``signum``."""
    jobs, failed, _ = write_summary(folder)
    (folder / STOP_FILE).unlink(missing_ok=True)
    interrupted = sum(1 for run in failed if jobs[run]["status"] == "interrupted")
    print(f"arm-bench: sweep stopped by {signal.Signals(signum).name}: {interrupted} running job(s) recorded "
          f"interrupted after their last complete round ({folder / SUMMARY_FILE}); rerun the same command to continue",
          file=sys.stderr)
    sys.stderr.flush()
    sys.stdout.flush()
    logging.shutdown()
    os._exit(128 + signum)


def parent_of_this_sweep() -> bool:
    """Whether this process is the sweep's parent (jobs of the basic launcher run in it)."""
    return os.environ.get(PARENT_VARIABLE, "").partition(":")[0] == str(os.getpid())


def sweep_stopping(run_dir: Path) -> str | None:
    """Why a job of a sweep should stop now, if it should: the sweep was stopped by a signal, or this process is a
    worker whose parent process has ended (SIGKILL leaves workers behind)."""
    recorded = os.environ.get(PARENT_VARIABLE)
    if not recorded:
        return None
    try:
        if (run_dir.parent / STOP_FILE).read_text() == os.environ.get(ID_VARIABLE):
            return "the sweep was stopped by a signal"
    except OSError:
        pass
    pid, _, started = recorded.partition(":")
    if int(pid) == os.getpid():
        return None
    replaced = started != "None" and process_start(int(pid)) != started
    return "the sweep's parent process ended" if replaced or not _running(int(pid)) else None


@contextmanager
def job_here() -> Iterator[None]:
    """Mark a job as running in this process while it runs (signals then interrupt it, not the parent's stop)."""
    global _job_here
    _job_here = True
    try:
        yield
    finally:
        _job_here = False


#: Launcher plugins that are an extra of arm-bench, by module: a launcher whose module is missing names its extra.
EXTRA_LAUNCHERS = {"hydra_plugins.hydra_ray_launcher": "ray"}


def _require_launcher_plugin(config: DictConfig) -> None:
    """Before Hydra builds the launcher: one line naming the extra to install, not an import traceback."""
    import importlib.util

    target = str(config.hydra.launcher.get("_target_", ""))
    for module, extra in EXTRA_LAUNCHERS.items():
        if target.startswith(module) and importlib.util.find_spec(module) is None:
            print(f"arm-bench: error: hydra/launcher={extra} needs the [{extra}] extra; pip install "
                  f"'arm-bench[{extra}]' (from a checkout: pip install -e '.[{extra}]')", file=sys.stderr)
            sys.exit(2)


def _refuse_if_locked(folder: Path) -> None:
    """A single run on a folder another process is writing stops before Hydra writes its files into it."""
    lock = RunLock(folder)
    if not (lock.path.exists() or lock.holder_path.exists()):  # never locked (probing would add a file to it)
        return
    try:
        lock.acquire(wait=False)
    except RunLocked as err:
        print(f"arm-bench: error: {err}", file=sys.stderr)
        sys.exit(2)
    lock.release()


def _hydra_writes_nothing(config: DictConfig) -> None:
    """No ``.hydra/`` and no log file (any file handler of ``hydra.job_logging``) for this run: its folder is
    read-only, and Hydra would stop with a logging traceback before the run could say it is finished."""
    with read_write(config.hydra), open_dict(config.hydra):
        config.hydra.output_subdir = None
        logging_config = config.hydra.job_logging
        files = {name for name, handler in (logging_config.get("handlers") or {}).items() if "filename" in handler}
        for name in files:
            del logging_config.handlers[name]
        for logger in [logging_config.get("root"), *(logging_config.get("loggers") or {}).values()]:
            if logger and logger.get("handlers"):
                logger.handlers = [handler for handler in logger.handlers if handler not in files]


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


def summary_stamp(run_dir: Path) -> tuple[int, int] | None:
    """The summary file's (inode, mtime) or None: summaries are replaced atomically, so a job whose stamp is the
    same after its run wrote none, i.e. skipped a finished run."""
    try:
        stat = RunFolder(run_dir).summary.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns


def record_job(run_dir: Path, status: str, reason: str | None, started: float,
               changed: list[str] | None = None) -> None:
    """Append this job's outcome to the sweep's ``jobs.jsonl`` and log ``job k/N``: its own time since ``started``,
    then the sweep's elapsed time and an estimate of what is left from the jobs that ran (skips take no time).

    ``changed``: for a finished run returned as it was, what changed in its inputs since it ran.
    """
    from filelock import FileLock

    folder = run_dir.parent
    now = time.time()
    line = {"sweep_id": os.environ.get(ID_VARIABLE), "run": run_dir.name, "status": status, "reason": reason,
            "time": now, "seconds": round(now - started, 3), **({stale.KEY: changed} if changed else {})}
    with FileLock(str(folder / f".{JOBS_FILE}.lock")):
        with open(folder / JOBS_FILE, "a") as handle:
            handle.write(json.dumps(line) + "\n")
        jobs = [job for job in _job_lines(folder) if job.get("sweep_id") == line["sweep_id"]]
    done, ran = len(jobs), sum(job["status"] != SKIPPED for job in jobs)
    total = _total()
    elapsed = now - float(os.environ.get(STARTED_VARIABLE, started))
    left = f", about {elapsed / ran * (total - done):.0f}s left" if total and done < total and ran else ""
    own = "skipped (already finished)" if status == SKIPPED else f"{status} in {now - started:.0f}s"
    log.info("job %d/%s: %s; sweep %.0fs elapsed%s", done, total or "?", own, elapsed, left)


def record_failure(run_dir: Path, reason: str, started: float) -> None:
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
        try:
            atomic_write_json(folder.summary, {**previous, "status": "failed", "reason": reason})
        except OSError as err:  # e.g. a full disk: the sweep's own list still gets the job
            log.warning("cannot write %s: %s", folder.summary, os_reason(err, folder.summary))
    record_job(run_dir, "failed", reason, started)


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
    if not all(BOOKKEEPING.match(path) or path in LOCK_FILES for path in created):
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
