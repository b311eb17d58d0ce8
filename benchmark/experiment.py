"""The one entrypoint: ``arm-bench [overrides]`` (or ``python -m benchmark``), a Hydra app."""

import shutil
import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from benchmark.errors import UserError
from benchmark.outputs import RunFolder
from benchmark.paths import CONF_DIR
from benchmark.runner import run_experiment

#: When this process started, before Hydra made any folder (see :func:`remove_if_only_hydra`).
STARTED = time.time()

#: Top-level keys that may be overridden next to ``resume=PATH``: they change how a run is tracked, not its results.
RESUME_OVERRIDABLE = ("resume", "logger", "overwrite", "torch_threads", "hydra")


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def _app(cfg: DictConfig) -> None:
    hydra_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        if cfg.resume:
            cfg, run_dir = resumed_config(cfg, list(HydraConfig.get().overrides.task))
        else:
            run_dir = hydra_dir
        run_experiment(cfg, run_dir)
    except UserError as err:
        print(f"arm-bench: error: {err}", file=sys.stderr)
        sys.exit(2)
    finally:
        remove_if_only_hydra(hydra_dir)


def main() -> None:
    _app()


def resumed_config(cfg: DictConfig, overrides: list[str]) -> tuple[DictConfig, Path]:
    """The config saved in the run folder ``cfg.resume``, and that folder.

    ``resume=PATH`` continues a run exactly as it was configured, so an override that would change its
    results is refused rather than silently ignored. Keys the saved config leaves out (tracker, overwrite)
    come from the current command.
    """
    run_dir = Path(cfg.resume).expanduser()
    saved = RunFolder(run_dir).config
    if not saved.is_file():
        raise UserError(
            f"resume={cfg.resume}: {saved} does not exist; pass the folder of an earlier run "
            "(outputs/runs/<its overrides>)"
        )
    changed = [o for o in overrides if o.lstrip("+~").split("=")[0].split(".")[0] not in RESUME_OVERRIDABLE]
    if changed:
        raise UserError(
            f"resume={cfg.resume} continues that run with the config saved in it; drop {' '.join(changed)} "
            "(or start a new run without resume)"
        )
    resumed = OmegaConf.load(saved)
    for key in cfg:
        if key not in resumed:
            resumed[key] = cfg[key]
    return resumed, run_dir


def remove_if_only_hydra(folder: Path) -> None:
    """Delete a run folder that this process created and that holds only Hydra's own files.

    Hydra makes the folder and writes ``.hydra/`` and its log before the task runs, so a config or data
    error caught before round 0 would leave an empty-looking run behind. A folder that existed before gets
    no new entry from Hydra (it rewrites files inside ``.hydra/`` and appends to the log), so its mtime
    stays older than this process: such a folder is never deleted.
    """
    if not folder.is_dir() or folder.stat().st_mtime < STARTED:
        return
    if all(entry.name == ".hydra" or entry.suffix == ".log" for entry in folder.iterdir()):
        shutil.rmtree(folder)
