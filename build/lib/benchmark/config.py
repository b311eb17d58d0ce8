"""Structured-config schemas for the common fields, so a typo'd key fails when Hydra composes.

Group options whose parameters differ by implementation (``dataset``, ``selector``) stay free-form:
their parameters are checked against the ``_target_``'s signature when it is built
(:func:`instantiate_checked`), so a user's own selector needs no schema edit.
"""

import hashlib
import inspect
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.utils import get_object
from omegaconf import MISSING, DictConfig, OmegaConf

from benchmark.errors import UserError


class Pairing(Enum):
    in_prompt = "in_prompt"
    cross_prompt = "cross_prompt"


@dataclass
class ModelConfig:
    """The LLM whose frozen embeddings the reward head reads; ``dim`` is D (null = take it from the file).

    ``generator`` / ``embedder`` are the name parts of its embedding files (responses from the generator,
    embeddings from the embedder), which ``dataset=embeddings`` and its presets read.
    """

    dim: int | None = None
    generator: str | None = None
    embedder: str | None = None


@dataclass
class BatchConfig:
    size: int = MISSING


@dataclass
class SetupConfig:
    pairing: Pairing = MISSING


@dataclass
class RewardModelConfig:
    width: int = 512
    layers: int = 3
    lr: float = 1e-3
    steps: int = 1000
    weight_decay: float = 0.0
    warm_start: bool = False
    device: str = "auto"


@dataclass
class AnnotatorConfig:
    beta: float = 1.0
    scale: float | None = None


@dataclass
class LoggerConfig:
    """W&B settings; run-only (never change results). ``mode``: offline, online, or disabled (``logger=none``)."""

    mode: str = "offline"
    project: str = "arm-bench"
    entity: str | None = None
    group: str | None = None  # null = the run's comparison cell (RunSpec.cell)
    name: str | None = None  # null = <sweep or "runs">/<run folder>
    tags: list[str] = field(default_factory=list)  # added to the automatic tags
    notes: str | None = None
    timeout: float = 30.0  # seconds that wandb.init, and then finish's upload, may each wait for the server


@dataclass
class EvalConfig:
    test_prompts: int | None = None
    bon_n: list[int] = field(default_factory=lambda: [5, 10, 30, 50, 100, 300, 500])
    bon_repeats: int = 10
    accuracy_pairs: int = 32
    chunk_prompts: int = 256


@dataclass
class Config:
    dataset: Any = MISSING
    model: ModelConfig = MISSING
    selector: Any = MISSING
    batch: BatchConfig = MISSING
    setup: SetupConfig = MISSING
    reward_model: RewardModelConfig = MISSING
    annotator: AnnotatorConfig = MISSING
    logger: LoggerConfig = MISSING
    eval: EvalConfig = field(default_factory=EvalConfig)
    seed: int = 0
    budget: int = 1000
    initial_labels: int = 125
    prompts_per_round: int = 500
    candidates_per_round: int | None = 22500
    overwrite: bool = False
    resume: str | None = None
    allow_changed_inputs: bool = False
    output_root: str = "outputs"
    cache_dir: str = "~/.cache/arm-bench"
    torch_threads: int | None = None


def register_schemas() -> None:
    """Make the root schema available to ``conf/config.yaml``; typed fields validate each group's YAML."""
    ConfigStore.instance().store(name="config_schema", node=Config)


def run_name(overrides: Sequence[str]) -> str:
    """Folder name of a run: its sorted result-defining overrides, so reruns land in the same place.

    Run-only keys (benchmark/spec.py) and the ``sweep`` choice are left out: ``torch_threads=1`` or
    ``logger=none`` is the same run, and a sweep's runs already live in the sweep's folder.
    """
    from benchmark.spec import is_run_only, override_key

    kept = sorted(o for o in map(str, overrides) if not (override_key(o) == "sweep" or is_run_only(override_key(o))))
    if not kept:
        return "default"
    name = re.sub(r"[^A-Za-z0-9=,._+-]", "_", ",".join(kept))
    if len(name) > 120:
        name = f"{name[:100]}-{hashlib.sha1(name.encode()).hexdigest()[:10]}"
    return name


#: The sweep folder name a multirun's callback chose (benchmark/sweep.py), passed on to the jobs' processes.
SWEEP_NAME_VARIABLE = "ARM_BENCH_SWEEP_NAME"


def sweep_dir_name(choice: str) -> str:
    """The resolver behind ``hydra.sweep.dir``: the named sweep file, else the name the sweep callback chose."""
    return choice or os.environ.get(SWEEP_NAME_VARIABLE, "adhoc")


def register_resolvers() -> None:
    if not OmegaConf.has_resolver("arm_run_name"):
        OmegaConf.register_new_resolver("arm_run_name", run_name)
    if not OmegaConf.has_resolver("arm_sweep_name"):
        OmegaConf.register_new_resolver("arm_sweep_name", sweep_dir_name)


def instantiate_checked(node: DictConfig, group: str, **extra: Any) -> Any:
    """Build ``node._target_`` with the node's other keys, naming any parameter the class does not take."""
    params = {k: v for k, v in OmegaConf.to_container(node, resolve=True).items() if k != "_target_"}
    target_path = node.get("_target_")
    if not target_path:
        raise UserError(f"{group}: no `_target_` key; set {group}._target_=package.module.ClassName")
    try:
        target = get_object(target_path)
    except Exception as err:  # Hydra raises several types for a bad import path
        reason = " ".join(str(err).split())  # Hydra's message spans lines; the entrypoint prints one
        raise UserError(f"{group}._target_={target_path}: cannot import it ({reason}); check the dotted path") from err
    if inspect.isclass(target) and inspect.isabstract(target):
        missing = ", ".join(sorted(target.__abstractmethods__))
        raise UserError(f"{group}._target_={target_path} is an abstract class; implement {missing} in a subclass")
    params.update(extra)
    signature = inspect.signature(target)
    try:
        signature.bind(**params)
    except TypeError as err:
        accepted = ", ".join(p for p in signature.parameters if p not in extra) or "none"
        raise UserError(f"{group} ({target_path}): {err}; parameters it accepts: {accepted}") from err
    try:
        return target(**params)
    except ValueError as err:  # constructors reject bad parameter values with ValueError
        raise UserError(f"{group} ({target_path}): {err}") from err


register_schemas()
register_resolvers()
