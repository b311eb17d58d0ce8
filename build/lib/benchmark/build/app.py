"""``arm-bench-build [overrides]``: build embedding files in the authors' layout from a prompt dataset.

Stages run in pipeline order over every split before the next stage starts, so only one model is
in memory at a time; ``stages=[...]`` runs a subset, each resuming from the checkpoints of the last.
"""

import logging
import sys
from importlib import metadata
from pathlib import Path

import hydra
from hydra.utils import get_object
from omegaconf import DictConfig, OmegaConf
from packaging.requirements import Requirement  # a dependency of hydra-core

from benchmark.build.workdir import WorkDir
from benchmark.errors import UserError
from benchmark.paths import BUILD_CONF_DIR

log = logging.getLogger(__name__)

#: Pipeline order; stage ``x`` is ``benchmark.build.x.run_x``, imported on use so ``--help`` stays light.
STAGES = ("prompts", "responses", "rewards", "embeddings", "write")


def build(cfg: DictConfig) -> None:
    """Run the chosen stages on the chosen splits; raises UserError on bad input."""
    missing = _missing_keys(OmegaConf.to_container(cfg, resolve=False))
    if missing:
        raise UserError(f"{', '.join(missing)} not set; pass them on the command line, e.g. {missing[0]}=...")
    unknown = [s for s in cfg.stages if s not in STAGES]
    if unknown:
        raise UserError(f"stages={list(cfg.stages)}: unknown {unknown}; choose from {list(STAGES)}")
    splits = list(cfg.splits)
    if not set(splits) <= {"train", "test"}:
        raise UserError(f"splits={splits}: each must be train or test")
    work = WorkDir(Path(cfg.work_dir).expanduser())
    for stage in STAGES:
        if stage in cfg.stages:
            log.info("stage %s: %s", stage, ", ".join(splits))
            get_object(f"benchmark.build.{stage}.run_{stage}")(cfg, work, splits)


def _missing_keys(tree: dict, prefix: str = "") -> list[str]:
    """Dotted keys still ``???``, found without resolving (resolving would fail on them with a traceback)."""
    keys = []
    for key, value in tree.items():
        if isinstance(value, dict):
            keys += _missing_keys(value, f"{prefix}{key}.")
        elif value == "???":
            keys.append(f"{prefix}{key}")
    return keys


@hydra.main(version_base="1.3", config_path=str(BUILD_CONF_DIR), config_name="config")
def _app(cfg: DictConfig) -> None:
    try:
        build(cfg)
    except UserError as err:
        print(f"arm-bench-build: error: {err}", file=sys.stderr)
        sys.exit(2)


def requirements(extra: str | None = None) -> set[str]:
    """Distribution names arm-bench requires (``extra=None``) or that ``extra`` adds; empty if never installed."""
    try:
        listed = [Requirement(req) for req in metadata.requires("arm-bench") or []]
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return set()
    if extra is None:
        return {req.name.lower() for req in listed if req.marker is None}
    return {req.name.lower() for req in listed if req.marker is not None and req.marker.evaluate({"extra": extra})}


def missing_build_packages() -> list[str]:
    """The ``[build]`` extra's distributions that are not installed."""
    missing = []
    for name in sorted(requirements("build")):
        try:
            metadata.version(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
    return missing


def main() -> None:
    missing = missing_build_packages()
    if missing:
        print(f"arm-bench-build: error: {', '.join(missing)} not installed; run pip install 'arm-bench[build]' "
              "(from a checkout: pip install -e '.[build]')", file=sys.stderr)
        sys.exit(2)
    _app()


if __name__ == "__main__":
    main()
