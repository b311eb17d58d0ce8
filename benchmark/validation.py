"""Every number and the device of a config, checked before any data is loaded or folder touched.

The structured schema (benchmark/config.py) already refuses text where a number belongs; what it lets
through are values of the right type but outside their range: NaN and ±inf anywhere (Hydra parses
``nan`` and ``inf`` as floats), negative sizes, a zero learning rate, a device this machine does not have.
Each is a UserError whose one line names the dotted key, the value and the fix. Checks that need the
data (sizes against the number of prompts, K, D) stay in ``benchmark.loop.check_against_data``.
"""

import math
import os
import re
from collections.abc import Iterator
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from benchmark.annotator import check_annotator
from benchmark.config import EVAL_SPLITS, LoggerConfig, declared_bounds, training_config
from benchmark.errors import UserError

#: The largest seed: seeds feed numpy's SeedSequence and torch, both happy with any signed 64-bit value.
MAX_SEED = 2**63 - 1
DEVICE_CHOICES = "auto, cpu, cuda, cuda:N or mps"


def leaves(node: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted key, value) of every scalar in a container of dicts and lists; list items as ``key[i]``."""
    if isinstance(node, dict):
        for name, value in node.items():
            yield from leaves(value, f"{key}.{name}" if key else str(name))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from leaves(value, f"{key}[{index}]")
    else:
        yield key, node


def check_finite(cfg: DictConfig) -> None:
    """No NaN or infinite float anywhere in the resolved config.

    Hydra's own node is not a knob, and is skipped unresolved: its interpolations need a running Hydra app.
    """
    for top in cfg:
        if top == "hydra":
            continue
        node = cfg[top]
        value = OmegaConf.to_container(node, resolve=True, enum_to_str=True) if OmegaConf.is_config(node) else node
        for key, leaf in leaves(value, str(top)):
            if isinstance(leaf, float) and not math.isfinite(leaf):
                raise UserError(f"{key}={leaf} is not a finite number; set a finite value (see its comment in conf/)")


def check_dataset_numbers(dataset: DictConfig) -> None:
    """Dataset options are free-form (no schema): the parameters the loader declares bounded (``Count``,
    ``NonNegative`` in its signature) must be numbers within their bounds. A target that cannot be imported is
    left to the loader's own check, which names it."""
    from hydra.utils import get_object

    try:
        bounds = declared_bounds(get_object(str(dataset.get("_target_"))))
    except Exception:
        return
    for key, bound in bounds.items():
        value = dataset.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UserError(f"dataset.{key}={value} must be a number (see conf/dataset/ for its meaning)")
        if bound.refuses(value):
            raise UserError(f"dataset.{key}={value} {bound.wording}")


def check_numbers(cfg: DictConfig) -> None:
    """Refuse non-finite and out-of-range numeric knobs of a composed config, naming the first one found."""
    check_finite(cfg)
    check_dataset_numbers(cfg.dataset)
    rm, ev, annotator = training_config(cfg.reward_model), cfg.eval, cfg.annotator
    positive = {"batch.size": cfg.batch.size, "budget": cfg.budget, "initial_labels": cfg.initial_labels,
                "prompts_per_round": cfg.prompts_per_round, "reward_model.lr": rm.lr,
                "eval.bon_repeats": ev.bon_repeats, "eval.accuracy_pairs": ev.accuracy_pairs,
                "eval.chunk_prompts": ev.chunk_prompts, "eval.shift": ev.shift, "eval.held_out": ev.held_out,
                **{f"eval.bon_n[{i}]": n for i, n in enumerate(ev.bon_n)},
                **{key: value for key, value in (("eval.test_prompts", ev.test_prompts), ("model.dim", cfg.model.dim),
                                                 ("torch_threads", cfg.torch_threads)) if value is not None}}
    for key, value in positive.items():
        if value <= 0:
            raise UserError(f"{key}={value} must be positive")
    for key, value in {"seed": cfg.seed, "reward_model.steps": rm.steps,
                       "reward_model.weight_decay": rm.weight_decay}.items():
        if value < 0:
            raise UserError(f"{key}={value} must be zero or positive")
    cores = os.cpu_count() or 1
    if cfg.torch_threads is not None and cfg.torch_threads > 4 * cores:
        raise UserError(f"torch_threads={cfg.torch_threads} exceeds 4 x this machine's {cores} cores (torch crashes on "
                        f"huge values); use at most {4 * cores}, or torch_threads=null to choose by work size")
    if cfg.seed > MAX_SEED:
        raise UserError(f"seed={cfg.seed} exceeds 2**63-1; use a seed in [0, {MAX_SEED}]")
    if not ev.bon_n:
        raise UserError("eval.bon_n=[] must list at least one N of Best-of-N, e.g. eval.bon_n=[5,10]")
    cap = cfg.candidates_per_round
    if cap is not None and cap <= 0:
        raise UserError(f"candidates_per_round={cap} must be positive, or null for the whole pool")
    if cfg.budget % cfg.batch.size:
        budget, batch = cfg.budget, cfg.batch.size
        raise UserError(
            f"budget={budget} is not a multiple of batch.size={batch}; rounds = budget / batch.size, "
            f"so pick e.g. budget={budget - budget % batch or batch}"
        )
    check_annotator(annotator.beta, annotator.scale)
    check_split(ev)


def check_split(ev: DictConfig) -> None:
    """``eval.split`` is one of :data:`EVAL_SPLITS`, and held-out clusters leave at least one cluster to train on."""
    if ev.split not in EVAL_SPLITS:
        raise UserError(f"eval.split={ev.split} is not one of {', '.join(EVAL_SPLITS)}; pick one of them "
                        "(docs/method.md §6.4)")
    if ev.held_out >= ev.clusters:
        raise UserError(f"eval.held_out={ev.held_out} must be below eval.clusters={ev.clusters}, so that some "
                        "clusters remain to train on")


#: W&B modes (``logger.mode``); ``disabled`` is ``logger=none``.
LOGGER_MODES = ("offline", "online", "disabled")


def check_logger_options(options: LoggerConfig) -> None:
    """The tracker's settings, checked with the rest of the config before anything is written."""
    if options.mode not in LOGGER_MODES:
        raise UserError(f"logger.mode={options.mode} is not one of {', '.join(LOGGER_MODES)}; pick one of them")
    if not options.timeout > 0:
        raise UserError(f"logger.timeout={options.timeout} must be a positive number of seconds, e.g. 30")


def check_device(name: str, option: str = "reward_model.device") -> None:
    """``option`` names a device this machine has: auto, cpu, cuda, cuda:N or mps."""
    key = f"{option}={name!r}"
    if name in ("auto", "cpu"):
        return
    match = re.fullmatch(r"cuda(?::(\d+))?", name)
    if match:
        if not torch.cuda.is_available():
            raise UserError(f"{key} but torch sees no CUDA GPU here; use reward_model.device=auto or cpu")
        count = torch.cuda.device_count()
        if match[1] is not None and int(match[1]) >= count:
            raise UserError(
                f"{key} but this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}; "
                "pick one of them or reward_model.device=cuda"
            )
        return
    if name == "mps":
        if not torch.backends.mps.is_available():
            raise UserError(f"{key} but the Apple MPS backend is not available here; use reward_model.device=auto "
                            "or cpu")
        return
    raise UserError(f"{key} is not a torch device; use {DEVICE_CHOICES}")
