"""Shared fixtures: compose configs in-process with Hydra's compose API, on tiny sizes."""

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from benchmark.paths import CONF_DIR

#: Sizes small enough for a whole run in about a second on 2 cores.
TINY = [
    "logger=none",
    "dataset.train_prompts=120",
    "dataset.test_prompts=16",
    "dataset.test_responses=20",
    "model.dim=16",
    "dataset.prompt_rank=4",
    "dataset.response_rank=4",
    "reward_model.width=16",
    "reward_model.steps=15",
    "prompts_per_round=12",
    "candidates_per_round=200",
    "initial_labels=20",
    "batch.size=20",
    "budget=40",
    "eval.bon_repeats=2",
]


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ.setdefault("ARM_BENCH_CACHE", str(tmp_path_factory.mktemp("cache")))
    os.environ["WANDB_MODE"] = "offline"
    os.environ["WANDB_SILENT"] = "true"


def compose_config(*overrides: str, tiny: bool = True) -> DictConfig:
    """Compose conf/config.yaml like the CLI would, on TINY sizes unless ``tiny=False``."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        # With Hydra's node, the run's labels come from its own group choices, as under the CLI.
        return compose("config", overrides=[*(TINY if tiny else []), *overrides], return_hydra_config=True)


@pytest.fixture
def make_config() -> Callable[..., DictConfig]:
    """``make_config(*overrides, tiny=True)`` composes conf/config.yaml like the CLI would."""
    return compose_config


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return tmp_path / "run"


def doc_blocks(markdown: str) -> tuple[dict[str, str], list[str]]:
    """The files (path -> text; a file block's first line is a comment naming its path) and the shell commands of
    the code blocks in ``markdown``, so tests run documentation examples exactly as written."""
    files, commands = {}, []
    for language, body in re.findall(r"```(\w+)\n(.*?)```", markdown, flags=re.S):
        if language == "bash":
            commands += [line for line in body.splitlines() if line.strip()]
        else:
            first, rest = body.split("\n", 1)
            files[first.lstrip("# ").strip()] = rest
    return files, commands


def assert_run_fails_at_round_one(cfg: DictConfig, run_dir: Path, match: str) -> None:
    """The run stops at round 1 with one line matching ``match``, and its summary records the failure there."""
    import json

    from benchmark.errors import UserError
    from benchmark.runner import run_experiment

    with pytest.raises(UserError, match=match) as err:
        run_experiment(cfg, run_dir)
    assert "\n" not in str(err.value)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["rounds_completed"] == 1
