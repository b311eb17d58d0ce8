"""The one entrypoint: ``arm-bench [overrides]`` (or ``python -m benchmark``), a Hydra app."""

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from benchmark.errors import UserError
from benchmark.paths import CONF_DIR
from benchmark.runner import run_experiment


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def _app(cfg: DictConfig) -> None:
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        run_experiment(cfg, run_dir)
    except UserError as err:
        print(f"arm-bench: error: {err}", file=sys.stderr)
        sys.exit(2)


def main() -> None:
    _app()
