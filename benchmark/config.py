"""Structured-config schemas for the common fields, so a typo'd key fails when Hydra composes.

Group options whose parameters differ by implementation (``dataset``, ``selector``, ``reward_model``, ``setup``) stay
free-form: their parameters are checked against the ``_target_``'s signature when it is built
(:func:`instantiate_checked`), so a user's own selector needs no schema edit.
"""

import inspect
from dataclasses import dataclass, field
from typing import Annotated, Any

from hydra.core.config_store import ConfigStore
from hydra.utils import get_object
from omegaconf import MISSING, DictConfig, OmegaConf, ValidationError

from benchmark.errors import UserError


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
class RewardModelConfig:
    """How every reward head is trained; the head's own parameters (``_target_``, width, ...) are free-form."""

    lr: float = 1e-3
    steps: int = 1000
    weight_decay: float = 0.0
    warm_start: bool = False
    device: str = "auto"


#: The reward_model keys that say how a head is trained; every other key is a parameter of its ``_target_``.
TRAINING_KEYS = frozenset(RewardModelConfig.__dataclass_fields__)


def training_config(reward_model: DictConfig) -> RewardModelConfig:
    """The training keys of a ``reward_model`` node, typed (a head's YAML that leaves one out gets its default)."""
    node = OmegaConf.masked_copy(reward_model, [key for key in reward_model if key in TRAINING_KEYS])
    try:
        typed = OmegaConf.merge(OmegaConf.structured(RewardModelConfig), node)
    except ValidationError as err:
        reason = str(err).splitlines()[0]
        raise UserError(f"reward_model.{err.key}: {reason} (see conf/reward_model/training/adam.yaml)") from err
    return OmegaConf.to_object(typed)  # type: ignore[return-value]


def head_node(reward_model: DictConfig) -> DictConfig:
    """The head's own part of a ``reward_model`` node: ``_target_`` and its parameters, not the training keys."""
    return OmegaConf.masked_copy(reward_model, [key for key in reward_model if key not in TRAINING_KEYS])


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


#: The values of ``eval.split``: the dataset's own test prompts; test prompts moved out of the train prompts' range
#: along a direction of the synthetic generator's prompt component; the test prompts of held-out prompt clusters,
#: trained on the other clusters' prompts (benchmark/data/splits.py, docs/method.md §6.4).
EVAL_SPLITS = ("iid", "prompt_shift", "held_out_clusters")


@dataclass
class EvalConfig:
    test_prompts: int | None = None
    bon_n: list[int] = field(default_factory=lambda: [5, 10, 30, 50, 100, 300, 500])
    bon_repeats: int = 10
    accuracy_pairs: int = 32
    chunk_prompts: int = 256
    split: str = EVAL_SPLITS[0]
    shift: float = 3.0  # prompt_shift: how far out the test prompts lie, in standard deviations
    clusters: int = 3  # held_out_clusters: k of the k-means on the prompts
    held_out: int = 1  # held_out_clusters: clusters whose prompts are held out for testing


@dataclass
class Config:
    dataset: Any = MISSING
    model: ModelConfig = MISSING
    selector: Any = MISSING
    posterior: Any = MISSING  # the Bayesian selectors' posterior: `_target_` and its parameters
    batch: BatchConfig = MISSING
    setup: Any = MISSING  # a pairing: `_target_`, its name `pairing` and its parameters (benchmark.pairings)
    reward_model: Any = MISSING  # a head (`_target_` and its parameters) plus RewardModelConfig's keys
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


@dataclass(frozen=True)
class AtLeast:
    """A lower bound on a loader parameter, declared in the loader's signature (``Count``, ``NonNegative``), so the
    config checks know a dataset's counts without a list of particular loaders' parameter names."""

    bound: float
    inclusive: bool = True

    def refuses(self, value: float) -> bool:
        return value < self.bound if self.inclusive else value <= self.bound

    @property
    def wording(self) -> str:
        return "must be zero or positive" if self.inclusive and self.bound == 0 else "must be positive"


#: A size (prompts, responses, ranks): a positive integer.
Count = Annotated[int, AtLeast(0, inclusive=False)]
#: A scale that may be zero (noise): zero or positive.
NonNegative = Annotated[float, AtLeast(0)]


def declared_bounds(target: Any) -> dict[str, AtLeast]:
    """``parameter -> bound`` for the parameters ``target`` annotates with :class:`AtLeast` (none for others)."""
    try:
        hints = inspect.get_annotations(target, eval_str=True)
    except Exception:  # a callable whose annotations cannot be read declares nothing
        return {}
    return {name: meta for name, hint in hints.items() for meta in getattr(hint, "__metadata__", ())
            if isinstance(meta, AtLeast)}


def register_schemas() -> None:
    """Make the root schema available to ``conf/config.yaml``; typed fields validate each group's YAML."""
    ConfigStore.instance().store(name="config_schema", node=Config)


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
