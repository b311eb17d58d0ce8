"""Experiment trackers. Local files are always written (benchmark.outputs); W&B is an optional extra.

W&B is imported lazily and runs offline by default (``wandb sync`` uploads later). Any W&B failure
becomes one warning: the local outputs are the record, a dashboard hiccup must not lose a run.
W&B cannot resume an offline run, so a resumed run starts a new W&B run and replays the rounds already
done into it; the earlier, partial offline runs move to ``wandb/superseded/`` so that
``wandb sync <run>/wandb/offline-run-*`` uploads one whole curve per run, not a whole one and a stub.

Online mode never stalls a run for long: ``wandb.init`` gives up after ``logger.timeout`` seconds, and so does
finish's upload (the rest stays on disk for ``wandb sync``). A failed online start logs the run offline instead
and leaves a marker in the cache folder, so that the runs of a sweep started in the next
:data:`OFFLINE_AFTER_FAILURE_MINUTES` minutes go offline at once instead of each waiting out the timeout.
"""

import hashlib
import json
import logging
import math
import shutil
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from benchmark.outputs import atomic_write_json
from benchmark.spec import RunSpec

log = logging.getLogger(__name__)

OFFLINE_AFTER_FAILURE_MINUTES = 10
MARKER_NAME = "wandb-unreachable.json"


class Logger(Protocol):
    def log_round(self, record: dict[str, Any]) -> None: ...

    def finish(self, summary: dict[str, Any], exit_code: int) -> None: ...


class NullLogger:
    def log_round(self, record: dict[str, Any]) -> None:
        pass

    def finish(self, summary: dict[str, Any], exit_code: int) -> None:
        pass


def unique(items: list[str]) -> list[str]:
    """``items`` without repeats, in first-seen order."""
    return list(dict.fromkeys(items))


def run_identity(
    spec: RunSpec, run_dir: Path, *, sweep: str | None, provenance: Mapping[str, Any], resumed: bool
) -> dict[str, Any]:
    """The ``wandb.init`` arguments that name, group, tag and describe a run (all but mode and settings).

    The name is unique across sweeps (each sweep has its own folder of uniquely named runs); the group is the
    comparison cell, so a group's runs differ only in selector and seed; ``job_type`` is the selector. The
    config is the result-defining config plus labels, sweep and provenance, so a dashboard can filter on them.
    """
    options = spec.options.logger
    commit, dirty = provenance.get("git_commit"), provenance.get("git_dirty")
    tags = [
        *spec.labels.as_dict().values(), f"seed{spec.seed}", *([f"sweep:{sweep}"] if sweep else []),
        *([f"git:{commit[:7]}"] if commit else []), *(["dirty"] if dirty else []), *(["resumed"] if resumed else []),
        *options.tags,
    ]
    return {
        "project": options.project,
        "entity": options.entity,
        "name": options.name or f"{sweep or 'runs'}/{run_dir.name}",
        "group": options.group or spec.cell,
        "job_type": spec.labels.selector,
        "tags": unique([within_tag_limit(str(tag)) for tag in tags]),
        "notes": options.notes,
        "config": {**spec.config, "labels": spec.labels.as_dict(), "sweep": sweep, "provenance": dict(provenance)},
    }


#: W&B refuses a tag longer than this, and with it the whole run.
MAX_TAG = 64


def within_tag_limit(tag: str) -> str:
    """``tag``, or a shortened one (its start and a hash, still unique) with a warning, when W&B would refuse it."""
    if len(tag) <= MAX_TAG:
        return tag
    short = f"{tag[:MAX_TAG - 9]}-{hashlib.sha1(tag.encode()).hexdigest()[:8]}"
    log.warning("W&B tag %r is longer than %d characters; it is logged as %r", tag, MAX_TAG, short)
    return short


def build_logger(
    spec: RunSpec, run_dir: Path, *, sweep: str | None, provenance: dict[str, Any], resumed: bool
) -> "Logger":
    """The run's tracker: a W&B run (see :func:`run_identity`), or nothing with ``logger.mode=disabled``."""
    options = spec.options.logger
    if options.mode == "disabled":
        return NullLogger()
    identity = run_identity(spec, run_dir, sweep=sweep, provenance=provenance, resumed=resumed)
    return WandbLogger(identity, options.mode, options.timeout, run_dir, spec.options.cache_dir / MARKER_NAME)


def scalar_summary(summary: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """The number and string leaves of a (nested) summary, nested keys joined by ``/``: what W&B's summary gets.

    Flat keys (benchmark.summary_metrics) pass unchanged, so summary.json and the runs table use the same names.
    """
    for key, value in summary.items():
        if isinstance(value, Mapping):
            yield from scalar_summary(value, f"{prefix}{key}/")
        elif isinstance(value, int | float | str) and not (isinstance(value, float) and not math.isfinite(value)):
            yield f"{prefix}{key}", value  # NaN/inf are skipped: summary.json stores them as null


def recent_failure(marker: Path) -> float | None:
    """When the last online start failed, if that was under :data:`OFFLINE_AFTER_FAILURE_MINUTES` ago."""
    try:
        failed_at = float(json.loads(marker.read_text())["time"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no marker (or an unreadable one): try online
    return failed_at if time.time() - failed_at < OFFLINE_AFTER_FAILURE_MINUTES * 60 else None


#: What W&B would gather per run that the run already records, or that a run of seconds does not need. Measured by
#: ``python -m benchmark.perf wandb`` (docs/scale.md): an offline init + finish after a process's first takes 0.02 s
#: with these against 0.19 s with W&B's defaults, most of it the requirements file; the stats sampler and the
#: console capture cost little there but run beside the run. The package versions are in the summary
#: (``packages/*``), the git commit in the config (``provenance``) and tags, the printed output in the run's log.
LEAN_SETTINGS = {
    "x_save_requirements": False,  # a pip freeze into requirements.txt, per run: the largest part
    "x_disable_stats": True,  # the system-metrics sampler (CPU, memory; a wandb-symon process) of every run
    "console": "off",  # capturing stdout and stderr into output.log while the run goes
    "disable_git": True,  # W&B's own git calls
}


class WandbLogger:
    """One W&B run per experiment, with ``n_labels`` as the x-axis of every curve."""

    def __init__(self, identity: dict[str, Any], mode: str, timeout: float, run_dir: Path, marker: Path):
        self.run = None
        self.identity, self.timeout, self.run_dir, self.marker = identity, timeout, run_dir, marker
        try:
            retire_offline_runs(run_dir / "wandb")
            if mode == "online" and (failed_at := recent_failure(marker)) is not None:
                log.warning(
                    "W&B was unreachable at %s (marker %s); logging this run offline without trying "
                    "(delete the marker to retry online; upload later with wandb sync %s/wandb/offline-run-*)",
                    time.strftime("%H:%M:%S", time.localtime(failed_at)), marker, run_dir,
                )
                mode = "offline"
        except OSError as err:
            self._warn("init", err)
            return
        try:
            self.run = self._start(mode)
        except Exception as err:  # any tracker failure must leave the local run intact
            if mode == "online":
                self._fall_back_offline(err)
            else:
                self._warn("init", err)

    def _start(self, mode: str) -> Any:
        import wandb

        settings = wandb.Settings(silent=True, init_timeout=self.timeout, finish_timeout=self.timeout, **LEAN_SETTINGS)
        run = wandb.init(mode=mode, dir=str(self.run_dir), settings=settings, **self.identity)
        run.define_metric("n_labels")
        run.define_metric("*", step_metric="n_labels")
        return run

    def _fall_back_offline(self, err: Exception) -> None:
        log.warning(
            "W&B online start failed (%s: %s); logging this run offline instead, and runs started in the next "
            "%d minutes go offline at once (marker %s); upload later with wandb sync %s/wandb/offline-run-*",
            type(err).__name__, " ".join(str(err).split()), OFFLINE_AFTER_FAILURE_MINUTES, self.marker, self.run_dir,
        )
        try:
            atomic_write_json(self.marker, {"time": time.time(), "error": f"{type(err).__name__}: {err}"})
            self.run = self._start("offline")
        except Exception as offline_err:
            self._warn("offline start", offline_err)

    def _warn(self, action: str, err: Exception) -> None:
        log.warning("W&B %s failed (%s: %s); local outputs are unaffected", action, type(err).__name__, err)
        self.run = None

    def log_round(self, record: dict[str, Any]) -> None:
        if self.run is None:
            return
        try:
            self.run.log(record)
        except Exception as err:
            self._warn("log", err)

    def finish(self, summary: dict[str, Any], exit_code: int) -> None:
        """Store the summary's numbers and strings and close the run; a non-zero exit code marks it failed."""
        if self.run is None:
            return
        try:
            self.run.summary.update(dict(scalar_summary(summary)))
            self.run.finish(exit_code=exit_code)
        except Exception as err:
            self._warn("finish", err)


def retire_offline_runs(wandb_dir: Path) -> None:
    """Move the offline W&B runs of earlier attempts at this run into ``superseded/`` (kept, not synced)."""
    earlier = sorted(wandb_dir.glob("offline-run-*"))
    if earlier:
        (wandb_dir / "superseded").mkdir(exist_ok=True)
    for folder in earlier:
        shutil.move(folder, wandb_dir / "superseded" / folder.name)
