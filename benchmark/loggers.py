"""Experiment trackers. Local files are always written (benchmark.outputs); these are optional extras.

W&B is imported lazily and runs offline by default (``wandb sync`` uploads later). Any W&B failure
becomes one warning: the local outputs are the record, a dashboard hiccup must not lose a run.
W&B cannot resume an offline run, so a resumed run starts a new W&B run and replays the rounds already
done into it; the earlier, partial offline runs move to ``wandb/superseded/`` so that
``wandb sync <run>/wandb/offline-run-*`` uploads one whole curve per run, not a whole one and a stub.
"""

import logging
import os
import shutil
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Logger(Protocol):
    def log_round(self, record: dict[str, Any]) -> None: ...

    def finish(self, summary: dict[str, Any]) -> None: ...


class NullLogger:
    def log_round(self, record: dict[str, Any]) -> None:
        pass

    def finish(self, summary: dict[str, Any]) -> None:
        pass


class WandbLogger:
    """One W&B run per experiment, with ``n_labels`` as the x-axis of every curve."""

    def __init__(
        self, mode: str, project: str, entity: str | None, group: str, job_type: str, tags: list[str],
        name: str, config: dict[str, Any], run_dir: Path,
    ):
        self.run = None
        try:
            retire_offline_runs(run_dir / "wandb")
            os.environ.setdefault("WANDB_SILENT", "true")
            import wandb

            self.run = wandb.init(
                project=project, entity=entity, mode=mode, group=group, job_type=job_type, tags=tags,
                name=name, config=config, dir=str(run_dir),
            )
            self.run.define_metric("n_labels")
            self.run.define_metric("*", step_metric="n_labels")
        except Exception as err:  # any tracker failure must leave the local run intact
            self._warn("init", err)

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

    def finish(self, summary: dict[str, Any]) -> None:
        if self.run is None:
            return
        try:
            self.run.summary.update({k: v for k, v in summary.items() if isinstance(v, int | float | str)})
            self.run.finish()
        except Exception as err:
            self._warn("finish", err)


def retire_offline_runs(wandb_dir: Path) -> None:
    """Move the offline W&B runs of earlier attempts at this run into ``superseded/`` (kept, not synced)."""
    earlier = sorted(wandb_dir.glob("offline-run-*"))
    if earlier:
        (wandb_dir / "superseded").mkdir(exist_ok=True)
    for folder in earlier:
        shutil.move(folder, wandb_dir / "superseded" / folder.name)
