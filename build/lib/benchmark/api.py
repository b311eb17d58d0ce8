"""The library API for notebooks: ``benchmark.run([...overrides])`` runs one experiment as the CLI would.

It composes the same config with the same overrides, writes to the same folder (``outputs/runs/<overrides>``)
and goes through the same runner, so a notebook run and a shell run of one command are the same run: the
second one finds the first finished and skips it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf

from benchmark.outputs import RunFolder, read_jsonl
from benchmark.paths import CONF_DIR


@dataclass(frozen=True)
class RunResult:
    folder: Path
    records: list[dict[str, Any]]  # one per round, as in metrics.jsonl
    summary: dict[str, Any]  # as in summary.json


def run(overrides: Sequence[str] = (), config_dir: str | Path | None = None) -> RunResult:
    """Run (or continue, or skip if finished) the experiment ``arm-bench <overrides>`` would run.

    ``config_dir``: a folder of your own config groups (e.g. ``conf/selector/mine.yaml``), as ``--config-dir``.
    Sweeps (``-m``) are for the CLI.
    """
    from benchmark.experiment import resumed_config
    from benchmark.runner import run_experiment

    extra = [f"hydra.searchpath=[file://{Path(config_dir).resolve()}]"] if config_dir is not None else []
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=[*overrides, *extra], return_hydra_config=True)
    hydra = HydraConfig.instance()
    previous = hydra.cfg
    hydra.set_config(cfg)
    try:
        run_dir = Path(str(OmegaConf.select(cfg, "hydra.run.dir")))
    finally:
        hydra.cfg = previous
    if cfg.resume:
        cfg, run_dir = resumed_config(cfg, list(overrides))
    summary = run_experiment(cfg, run_dir)
    return RunResult(run_dir.resolve(), read_jsonl(RunFolder(run_dir).metrics), summary)
