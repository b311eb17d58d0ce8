"""Runs one experiment into its folder: outputs, loggers, the summary, resuming and skipping finished runs."""

import logging
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from benchmark import checkpoint, provenance
from benchmark.config import apply_torch_threads, instantiate_checked
from benchmark.errors import UserError
from benchmark.loggers import Logger, NullLogger, WandbLogger
from benchmark.loop import ActiveLearning, plan_experiment
from benchmark.memory import check_memory
from benchmark.outputs import (
    RunFolder,
    area_under_curve,
    atomic_write_json,
    atomic_write_text,
    format_round_table,
)
from benchmark.reward_model import resolve_device
from benchmark.toy_grid import save_toy_grid

log = logging.getLogger(__name__)


def choice_names(cfg: DictConfig) -> dict[str, str]:
    """Short names of the chosen group options, for tags, groups and summaries."""
    return {
        "dataset": cfg.dataset.get("name", "dataset"),
        "model": cfg.model.name,
        "selector": cfg.selector.get("name") or cfg.selector._target_.rsplit(".", 1)[-1],
        "setup": cfg.setup.name,
        "batch": cfg.batch.name,
    }


def build_logger(cfg: DictConfig, run_dir: Path, resumed: bool = False) -> Logger:
    if cfg.logger.name == "none":
        return NullLogger()
    names = choice_names(cfg)
    group = cfg.logger.group or f"{names['dataset']}-{names['model']}-{names['setup']}-{names['batch']}"
    tags = [*names.values(), f"seed{cfg.seed}", *(["resumed"] if resumed else [])]
    return WandbLogger(
        mode=cfg.logger.mode, project=cfg.logger.project, entity=cfg.logger.entity, group=group,
        job_type=names["selector"], tags=tags, name=run_dir.name,
        config=OmegaConf.to_container(cfg, resolve=True, enum_to_str=True), run_dir=run_dir,
    )


def comparable_config(cfg: DictConfig) -> str:
    """The resolved config as YAML, minus keys that do not change results."""
    container = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    for key in ("overwrite", "logger", "torch_threads", "resume"):
        container.pop(key, None)
    return OmegaConf.to_yaml(OmegaConf.create(container))


def refuse_other_config(folder: RunFolder, resolved: str, previous: dict[str, Any] | None) -> None:
    """Results of another config are never replaced or mixed with new ones without overwrite=true."""
    finished = previous is not None and previous.get("status") == "finished"
    if not (finished or checkpoint.path(folder).exists()):
        return
    if not folder.config.exists() or folder.config.read_text() != resolved:
        raise UserError(
            f"{folder.root} holds {'a finished' if finished else 'an unfinished'} run with a different config "
            "(its config.yaml); pass overwrite=true to replace it, or set output_root to another folder"
        )


def run_experiment(cfg: DictConfig, run_dir: Path) -> dict[str, Any]:
    """Run one experiment into ``run_dir``, continuing after its last complete round; returns its summary.

    Every check (config, data, memory) runs before ``run_dir`` is touched, so a UserError raised before
    round 0 leaves the folder as it was. A finished run is skipped unless ``overwrite``.
    """
    folder = RunFolder(run_dir)
    resolved = comparable_config(cfg)
    previous = folder.read_summary()
    if not cfg.overwrite:
        refuse_other_config(folder, resolved, previous)
        if previous is not None and previous.get("status") == "finished":
            log.info("%s already holds this finished run; skipping (overwrite=true redoes it)", run_dir)
            return previous
    apply_torch_threads(cfg.torch_threads)
    data = instantiate_checked(cfg.dataset, "dataset")
    plan = plan_experiment(cfg, data)
    check_memory(cfg, data, plan, resolve_device(cfg.reward_model.device))
    selector = instantiate_checked(cfg.selector, "selector")
    loop = ActiveLearning(cfg, data, plan, selector)

    state = None if cfg.overwrite else checkpoint.load(folder, loop.device)
    if state is None:
        checkpoint.clear(folder)
    else:
        loop.restore(state.pairs, state.labels, state.model)
        folder.summary.unlink(missing_ok=True)
        log.info("resuming %s after round %d, its last complete round", run_dir, state.last_round)
    records = list(state.records) if state else []
    timings = list(state.timings) if state else []
    atomic_write_text(folder.config, resolved)
    logger = build_logger(cfg, run_dir, resumed=state is not None)
    for record, timing in zip(records, timings, strict=True):
        logger.log_round({**record, **timing})
    started = time.time()
    names = choice_names(cfg)
    log.info("run %s: %s, %d rounds of %d pairs -> %s", names["selector"], names["setup"], plan.rounds,
             plan.batch_size, run_dir)
    try:
        for round_index in range(len(records), plan.rounds + 1):
            result = loop.run_round(round_index)
            record, timing = result.record, result.timings
            folder.save_selection(round_index, result.pairs, result.labels)
            folder.append_records(folder.metrics, [record])
            folder.append_records(folder.timings, [timing])
            checkpoint.save(folder, round_index, loop.model)
            logger.log_round({**record, **timing})
            records.append(record)
            timings.append(timing)
            log.info(
                "round %d/%d  n_labels=%d  spearman=%.4f  bon/%d=%.4f  select %.2fs  train %.2fs",
                round_index, plan.rounds, record["n_labels"], record["spearman"], loop.evaluator.largest_n,
                record[f"bon/{loop.evaluator.largest_n}"], timing["selection_seconds"], timing["train_seconds"],
            )
    except BaseException as err:
        atomic_write_json(folder.summary, {"status": "failed", "reason": f"{type(err).__name__}: {err}",
                                           "failed_round": len(records), "rounds_completed": len(records),
                                           **names})
        logger.finish({"status": "failed"})
        if isinstance(err, UserError):
            err.args = (f"round {len(records)}: {err}",)
        raise
    save_toy_grid(run_dir, loop.model, data, loop.device, cfg.dataset)
    checksums = {
        path.name: provenance.cached_checksum(path, Path(cfg.cache_dir).expanduser()) for path in data.files
    }
    summary = summarise(records, timings, names, checksums, loop.evaluator.largest_n, time.time() - started)
    summary["resumed_after_round"] = state.last_round if state else None
    atomic_write_json(folder.summary, summary)
    checkpoint.path(folder).unlink(missing_ok=True)
    logger.finish(summary)
    print(format_round_table(records, timings, loop.evaluator.largest_n))
    print(f"outputs: {run_dir.resolve()}")
    return summary


def summarise(
    records: list[dict[str, Any]], timings: list[dict[str, Any]], names: dict[str, str],
    data_checksums: dict[str, str], largest_n: int, wall_seconds: float,
) -> dict[str, Any]:
    n_labels = [r["n_labels"] for r in records]
    bon_key = f"bon/{largest_n}"
    return {
        "status": "finished",
        **names,
        "rounds": len(records) - 1,
        "final": records[-1],
        "auc": {
            "one_minus_spearman": area_under_curve(n_labels, [r["one_minus_spearman"] for r in records]),
            bon_key: area_under_curve(n_labels, [r[bon_key] for r in records]),
        },
        "seconds": {
            "wall": wall_seconds,
            **{key: sum(t[key] for t in timings) for key in ("pool_seconds", "selection_seconds",
                                                           "train_seconds", "eval_seconds")},
        },
        "git_commit": provenance.git_commit(),
        "packages": provenance.package_versions(),
        "data_checksums": data_checksums,
    }
