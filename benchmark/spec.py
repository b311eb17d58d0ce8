"""The run spec: which config keys define a run's results, and the typed, checked view of a run's config.

One rule decides what a run *is*: every config key defines its results except the run-only keys below, which
only say where and how it executes. Run identity (folder reuse, skip and resume), the W&B group and the plots'
grouping all follow this rule, so they cannot disagree. ``reward_model.device`` is result-defining: CPU and CUDA
give different floats.

Display names come from Hydra's runtime choices and from the values (``batch.size=20`` is batch ``b20``
everywhere), never from ``name:`` copies in the YAML files that could drift from the values.
"""

import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from benchmark.choices import hydra_runtime
from benchmark.config import (
    AnnotatorConfig,
    EvalConfig,
    LoggerConfig,
    RewardModelConfig,
    head_node,
    training_config,
)
from benchmark.package_files import register_package_file_resolver
from benchmark.pairings import Pairing, build_pairing
from benchmark.reward_model import head_sizes
from benchmark.validation import check_device, check_logger_options, check_numbers

#: Keys (dotted, a key covers its children) that never change results: where files go, caches, threads,
#: trackers, Hydra's own settings, and where a dataset's files happen to live (their content is fingerprinted).
RUN_ONLY_KEYS = frozenset(
    {"overwrite", "resume", "output_root", "cache_dir", "torch_threads", "allow_changed_inputs", "logger", "hydra",
     "dataset.root", "dataset.cache_dir", "dataset.generate"}
)
#: Result-defining keys added after run folders already existed, each with the value that reproduces what runs did
#: before it existed. A saved config that lacks one is read with that value, so a newer version does not make
#: older run folders "different" (skip, resume and the plots' cells all read configs through :func:`completed`).
#: A new key whose default keeps the old behaviour goes here when it is added.
INTRODUCED_KEYS: dict[str, Any] = {"model.generator": None, "model.embedder": None, "eval.split": "iid",
                                   "eval.shift": 3.0, "eval.clusters": 3, "eval.held_out": 1}
#: Result-defining keys that tell runs of one comparison cell apart: the compared strategy and the replicate.
COMPARED_KEYS = ("selector", "seed")


def covers(keys: frozenset[str] | tuple[str, ...], dotted: str) -> bool:
    """Whether ``dotted`` is one of ``keys`` or below one of them."""
    return any(dotted == key or dotted.startswith(f"{key}.") for key in keys)


def is_run_only(dotted: str) -> bool:
    """``dotted`` is a run-only key; Hydra's own groups (``hydra/launcher``) count as Hydra's settings."""
    return covers(RUN_ONLY_KEYS, dotted) or dotted.startswith("hydra/")


def override_key(override: str) -> str:
    """The key a command-line override sets: ``+a.b=1`` -> ``a.b``, ``hydra/launcher=joblib`` -> ``hydra/launcher``."""
    return str(override).lstrip("+~").split("=", 1)[0]


def freeze(value: Any) -> Any:
    """A hashable copy (lists -> tuples, dicts -> sorted item tuples), so values can be compared in sets."""
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    return value


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``, with hashable leaves."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = freeze(value)
    return flat


def split_run_only(tree: dict[str, Any], prefix: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
    """(``tree`` without its run-only keys, the run-only keys as dotted key -> value), at any depth."""
    kept: dict[str, Any] = {}
    run_only: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if is_run_only(name):
            run_only[name] = value
        elif isinstance(value, dict):
            kept[key], below = split_run_only(value, f"{name}.")
            run_only.update(below)
        else:
            kept[key] = value
    return kept, run_only


def without_hydra(cfg: DictConfig) -> DictConfig:
    """The config without Hydra's own node (a composed config may carry it; it resolves only inside a Hydra app)."""
    return OmegaConf.masked_copy(cfg, [key for key in cfg if key != "hydra"])


def result_config(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config minus the run-only keys: everything a run's results depend on besides its inputs."""
    return split_run_only(resolved(cfg))[0]


def run_only_values(cfg: DictConfig) -> dict[str, Any]:
    """This config's run-only keys (dotted, e.g. ``dataset.generate``) and their resolved values, Hydra's aside."""
    return split_run_only(resolved(cfg))[1]


def resolved(cfg: DictConfig) -> dict[str, Any]:
    """The config as plain resolved containers, without Hydra's node."""
    container = OmegaConf.to_container(without_hydra(cfg), resolve=True, enum_to_str=True)
    assert isinstance(container, dict)
    return container


def result_yaml(cfg: DictConfig) -> str:
    """:func:`result_config` as YAML: what a run folder's ``config.yaml`` holds, and what identity compares."""
    return OmegaConf.to_yaml(OmegaConf.create(result_config(cfg)))


def completed(tree: Mapping[str, Any]) -> dict[str, Any]:
    """A (nested) config's flattened result-defining keys, each :data:`INTRODUCED_KEYS` key it lacks at its old
    value."""
    flat = {k: v for k, v in flatten(tree).items() if not is_run_only(k)}
    for key, value in INTRODUCED_KEYS.items():
        if not any(covers((key,), k) for k in flat):
            flat[key] = freeze(value)
    return flat


def differing_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Dotted result-defining keys whose values differ between two (nested) configs, sorted."""
    a, b = completed(old), completed(new)
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))


def same_run(saved_yaml: str, config: Mapping[str, Any]) -> bool:
    """Whether a run folder's ``config.yaml`` text is the run of ``config`` (the result-defining keys)."""
    import yaml

    if saved_yaml == OmegaConf.to_yaml(OmegaConf.create(dict(config))):
        return True
    try:
        saved = yaml.safe_load(saved_yaml)
    except yaml.YAMLError:
        return False
    return isinstance(saved, dict) and not differing_keys(saved, config)


def cell_config(flat: Mapping[str, Any]) -> dict[str, Any]:
    """The flattened result-defining keys that define a comparison cell: all but selector and seed."""
    return {k: v for k, v in flat.items() if not covers(COMPARED_KEYS, k) and not is_run_only(k)}


def short_hash(payload: Any) -> str:
    return hashlib.sha1(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Labels:
    """Display names of a run, from Hydra's choices and the values."""

    preset: str
    dataset: str
    model: str
    setup: str
    batch: str
    selector: str

    def as_dict(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in ("preset", "dataset", "model", "setup", "batch", "selector")}


def runtime_choices(cfg: DictConfig) -> dict[str, str]:
    """Hydra's group choices (``selector`` -> ``dopt``): a config's own hydra node, else the running app's."""
    runtime = hydra_runtime(cfg)
    if runtime is None:
        return {}
    return {str(k): str(v) for k, v in runtime.choices.items() if v is not None}


def _target_name(node: Any, fallback: str) -> str:
    target = node.get("_target_") if isinstance(node, Mapping | DictConfig) else None
    return str(target).rsplit(".", 1)[-1] if target else fallback


def make_labels(cfg: DictConfig, choices: Mapping[str, str]) -> Labels:
    return Labels(
        preset=choices.get("experiment", "none"),
        dataset=choices.get("dataset") or _target_name(cfg.dataset, "dataset"),
        model=choices.get("model") or f"d{cfg.model.dim}",
        setup=str(cfg.setup.pairing),
        batch=f"b{cfg.batch.size}",
        selector=choices.get("selector") or _target_name(cfg.selector, "selector"),
    )


@dataclass(frozen=True)
class RunOptions:
    """The run-only settings: how and where a run executes, never what it computes."""

    overwrite: bool
    cache_dir: Path
    torch_threads: int | None
    allow_changed_inputs: bool
    logger: LoggerConfig


@dataclass(frozen=True)
class RunSpec:
    """A run's config, checked and typed once, before any data is loaded; the loop reads this, not the raw config."""

    config: dict[str, Any]  # result-defining keys, resolved (what config.yaml holds)
    labels: Labels
    options: RunOptions
    seed: int
    budget: int
    batch_size: int
    initial_labels: int
    prompts_per_round: int
    cap: int | None
    pairing: Pairing
    model_dim: int | None
    reward_model: RewardModelConfig  # how the head is trained
    head: DictConfig  # the head: ``_target_`` and its parameters, checked when built (benchmark.reward_model)
    annotator: AnnotatorConfig
    eval: EvalConfig
    dataset: DictConfig  # free-form: parameters of its ``_target_``, checked when built
    selector: DictConfig
    posterior: DictConfig  # handed to a selector whose class takes a ``posterior``

    @property
    def rounds(self) -> int:
        return self.budget // self.batch_size

    @property
    def yaml(self) -> str:
        return OmegaConf.to_yaml(OmegaConf.create(self.config))

    @property
    def cell(self) -> str:
        """The comparison cell (W&B group): readable labels plus a hash of every other result-defining key."""
        labels = self.labels
        readable = f"{labels.preset}-{labels.dataset}-{labels.model}-{labels.setup}-{labels.batch}"
        return f"{readable}-{short_hash(cell_config(flatten(self.config)))}"

    @classmethod
    def from_config(cls, cfg: DictConfig, choices: Mapping[str, str] | None = None) -> "RunSpec":
        """Check every config-only rule (numbers, sizes, device) and build the spec; data checks come later."""
        check_numbers(cfg)
        check_device(str(cfg.reward_model.device))
        head = head_node(cfg.reward_model)
        head_sizes(head, cfg.model.dim or 1)  # its parameters checked against its class before any data loads
        options = RunOptions(
            overwrite=bool(cfg.overwrite), cache_dir=Path(str(cfg.cache_dir)).expanduser(),
            torch_threads=cfg.torch_threads,
            allow_changed_inputs=bool(cfg.get("allow_changed_inputs", False)),
            logger=OmegaConf.to_object(cfg.logger),
        )
        check_logger_options(options.logger)
        return cls(
            config=result_config(cfg),
            labels=make_labels(cfg, runtime_choices(cfg) if choices is None else choices),
            options=options,
            seed=int(cfg.seed), budget=int(cfg.budget), batch_size=int(cfg.batch.size),
            initial_labels=int(cfg.initial_labels),
            prompts_per_round=int(cfg.prompts_per_round), cap=cfg.candidates_per_round,
            pairing=build_pairing(cfg.setup, cfg.candidates_per_round), model_dim=cfg.model.dim,
            reward_model=training_config(cfg.reward_model), head=head,
            annotator=OmegaConf.to_object(cfg.annotator),
            eval=OmegaConf.to_object(cfg.eval), dataset=cfg.dataset, selector=cfg.selector, posterior=cfg.posterior,
        )


def run_name(overrides: Sequence[str]) -> str:
    """Folder name of a run: its sorted result-defining overrides, so reruns land in the same place.

    Run-only keys (:func:`is_run_only`) and the ``sweep`` choice are left out: ``torch_threads=1`` or
    ``logger=none`` is the same run, and a sweep's runs already live in the sweep's folder.
    """
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


def absolute_path(path: str, base: str) -> str:
    """The resolver behind ``hydra.run.dir``/``hydra.sweep.dir``: ``path`` from the launching shell's folder
    ``base`` (``hydra.runtime.cwd``), so a job writes there whatever folder its process runs in (a Ray worker
    runs where its cluster was started)."""
    return str(Path(base) / Path(path).expanduser())


#: Prefixes of the environment variables a job reads (the sweep's id, size and clock; ARM_BENCH_CACHE, WANDB_*).
FORWARDED_PREFIXES = ("ARM_BENCH_", "WANDB_")


def forwarded_environment() -> dict[str, str]:
    """The resolver behind the Ray launcher's ``runtime_env.env_vars``: those variables of the launching
    process, which workers of an already running cluster would not inherit."""
    return {key: value for key, value in os.environ.items() if key.startswith(FORWARDED_PREFIXES)}


def register_resolvers() -> None:
    register_package_file_resolver()
    for name, resolver in (("arm_run_name", run_name), ("arm_sweep_name", sweep_dir_name),
                           ("arm_absolute", absolute_path), ("arm_forwarded_env", forwarded_environment)):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, resolver)


register_resolvers()
