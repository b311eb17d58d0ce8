"""The one entrypoint: ``arm-bench [overrides]`` (or ``python -m benchmark``), a Hydra app.

A single run stops with one line and exit 2 on bad input. Inside a multirun a failing job is recorded
(its ``summary.json`` and the sweep's ``sweep_summary.json``) and the sweep goes on; the sweep exits non-zero at
the end with the list of failed jobs (:mod:`benchmark.sweep`).
"""

import json
import logging
import os
import signal
import sys
import time
from errno import EDQUOT, ENOSPC
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf, open_dict

from benchmark import stale, sweep
from benchmark.config import Config
from benchmark.errors import UserError
from benchmark.lock import LockLost
from benchmark.outputs import RunFolder
from benchmark.paths import CONF_DIR
from benchmark.runner import Interrupted, run_experiment, sigterm_as_interrupt
from benchmark.spec import is_run_only, override_key, run_only_values
from hydra_plugins.arm_bench_launcher import quiet_schema_matching

log = logging.getLogger(__name__)



@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def _app(cfg: DictConfig) -> None:
    hydra_cfg = HydraConfig.get()
    hydra_dir = Path(hydra_cfg.runtime.output_dir)
    if hydra_cfg.mode == RunMode.MULTIRUN:
        run_sweep_job(cfg, hydra_dir)
        return
    try:
        if cfg.resume:
            cfg, run_dir = resumed_config(cfg, list(hydra_cfg.overrides.task))
        else:
            run_dir = hydra_dir
        run_experiment(cfg, run_dir)
    except UserError as err:
        print(f"arm-bench: error: {err}", file=sys.stderr)
        sweep.remove_what_this_run_created(hydra_dir)
        sys.exit(2)
    except KeyboardInterrupt as err:  # Ctrl-C, or SIGTERM as Interrupted: the summary says interrupted
        print(f"arm-bench: interrupted ({err or 'Ctrl-C'}); rerun the same command to continue", file=sys.stderr)
        sys.exit(128 + (signal.SIGTERM if isinstance(err, Interrupted) else signal.SIGINT))
    except BaseException:
        sweep.remove_what_this_run_created(hydra_dir)
        raise


def run_sweep_job(cfg: DictConfig, run_dir: Path) -> None:
    """One job of a multirun: its failure is recorded and reported, never allowed to end the sweep.

    A signal ends it as ``interrupted`` (recorded); then, in the sweep's parent (the basic launcher), the sweep
    writes its summary and exits, and in a worker process the worker exits, so nothing of the sweep goes on.
    """
    name = sweep.current_sweep_name()
    try:
        with sweep.logs_named(run_dir.name), sweep.job_here(), sigterm_as_interrupt():
            if reason := sweep.sweep_stopping(run_dir):  # started after the sweep was stopped
                raise Interrupted(reason)
            run_logged_sweep_job(cfg, run_dir, name)
    except KeyboardInterrupt as err:
        signum = signal.SIGTERM if isinstance(err, Interrupted) else signal.SIGINT
        if sweep.parent_of_this_sweep():
            sweep.end_interrupted(run_dir.parent, signum)
        sys.stderr.flush()
        logging.shutdown()
        os._exit(128 + signum)


def run_logged_sweep_job(cfg: DictConfig, run_dir: Path, name: str | None) -> None:
    started, before = time.time(), sweep.summary_stamp(run_dir)
    try:
        summary = run_experiment(cfg, run_dir, sweep=name, in_sweep=True)
        status = str(summary.get("status"))
        skipped = status == "finished" and before is not None and sweep.summary_stamp(run_dir) == before
        sweep.record_job(run_dir, sweep.SKIPPED if skipped else status, None, started, summary.get(stale.KEY))
    except KeyboardInterrupt as err:
        sweep.record_job(run_dir, "interrupted", f"interrupted ({str(err) or 'SIGINT'})", started)
        raise
    except LockLost as err:  # the folder is another run's now: only the sweep's own list records this job
        print(f"arm-bench: job {run_dir.name} failed: {err}", file=sys.stderr)
        sweep.record_job(run_dir, "failed", str(err), started)
    except Exception as err:  # every job failure is recorded; the other jobs still run
        disk_full = isinstance(err, OSError) and err.errno in (ENOSPC, EDQUOT)
        if isinstance(err, UserError):
            reason = str(err)
        else:
            reason = sweep.os_reason(err, run_dir) if disk_full else f"{type(err).__name__}: {err}"
        reason = reason.splitlines()[0] if reason else type(err).__name__
        if not (isinstance(err, UserError) or disk_full):
            log.exception("job %s failed", run_dir.name)
        print(f"arm-bench: job {run_dir.name} failed: {reason}", file=sys.stderr)
        try:
            sweep.record_failure(run_dir, reason, started)
        except OSError as unrecorded:  # a full disk: the line above and the sweep's exit code still say it
            print(f"arm-bench: job {run_dir.name}: cannot record the failure: {sweep.os_reason(unrecorded, run_dir)}",
                  file=sys.stderr)


def main() -> None:
    # The console script does what `python -m` does: the working directory is importable, so a user's own
    # selector module next to their conf/ folder is found by its `_target_`.
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    quiet_schema_matching()
    _app()


def recorded_choices(run_dir: Path) -> dict[str, str]:
    """The group choices a run was started with, so a resumed run keeps its labels, whatever today's command says.

    From Hydra's record (``.hydra/hydra.yaml``), else the labels saved at round 0 (runs made by ``benchmark.run``);
    empty if neither is readable (the labels then come from the values).
    """
    try:
        return dict(OmegaConf.load(RunFolder(run_dir).hydra_record).hydra.runtime.choices)
    except Exception:  # missing or damaged: try the run's own record
        pass
    try:
        labels = json.loads(RunFolder(run_dir).inputs.read_text())["labels"]
        return {"experiment": labels["preset"], **{k: labels[k] for k in ("dataset", "model", "selector")}}
    except (OSError, ValueError, KeyError, TypeError):
        log.warning("%s holds no record of its group choices; its labels come from its values", run_dir)
        return {}


def resumed_config(cfg: DictConfig, overrides: list[str]) -> tuple[DictConfig, Path]:
    """The config saved in the run folder ``cfg.resume``, and that folder.

    ``resume=PATH`` continues a run exactly as it was configured, so an override that would change its
    results is refused rather than silently ignored. Keys the saved config leaves out (run-only keys) come
    from the current command.
    """
    run_dir = Path(cfg.resume).expanduser()
    saved = RunFolder(run_dir).config
    if not saved.is_file():
        raise UserError(
            f"resume={cfg.resume}: {saved} does not exist; pass the folder of an earlier run "
            "(outputs/runs/<its overrides>)"
        )
    changed = [o for o in overrides if not is_run_only(override_key(o))]
    if changed:
        raise UserError(
            f"resume={cfg.resume} continues that run with the config saved in it; drop {' '.join(changed)} "
            "(or start a new run without resume)"
        )
    try:  # typed like a composed config, so the spec reads it the same way
        resumed = OmegaConf.merge(OmegaConf.structured(Config), OmegaConf.load(saved))
    except Exception as err:
        raise UserError(f"resume={cfg.resume}: {saved} is not a config this version can read ({err}); "
                        "start a new run without resume") from err
    with open_dict(resumed):
        for key, value in run_only_values(cfg).items():  # where and how to run, at any depth: from this command
            OmegaConf.update(resumed, key, value, merge=True, force_add=True)
        resumed.hydra = {"runtime": {"choices": recorded_choices(run_dir)}}
    return resumed, run_dir
