"""Runs one experiment into its folder: outputs, loggers, the summary, and skipping finished runs."""

import logging
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from benchmark import provenance
from benchmark.config import instantiate_checked
from benchmark.data import PreferenceData
from benchmark.errors import UserError
from benchmark.loggers import Logger, NullLogger, WandbLogger
from benchmark.loop import ActiveLearning, plan_experiment
from benchmark.outputs import (
    RunFolder,
    area_under_curve,
    atomic_write_json,
    atomic_write_text,
    format_round_table,
)

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


def build_logger(cfg: DictConfig, run_dir: Path) -> Logger:
    if cfg.logger.name == "none":
        return NullLogger()
    names = choice_names(cfg)
    group = cfg.logger.group or f"{names['dataset']}-{names['model']}-{names['setup']}-{names['batch']}"
    return WandbLogger(
        mode=cfg.logger.mode, project=cfg.logger.project, entity=cfg.logger.entity, group=group,
        job_type=names["selector"], tags=[*names.values(), f"seed{cfg.seed}"], name=run_dir.name,
        config=OmegaConf.to_container(cfg, resolve=True, enum_to_str=True), run_dir=run_dir,
    )


def comparable_config(cfg: DictConfig) -> str:
    """The resolved config as YAML, minus keys that do not change results."""
    container = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    for key in ("overwrite", "logger"):
        container.pop(key, None)
    return OmegaConf.to_yaml(OmegaConf.create(container))


def run_experiment(cfg: DictConfig, run_dir: Path) -> dict[str, Any]:
    """Run one experiment into ``run_dir``; returns its summary. Raises UserError on bad input."""
    folder = RunFolder(run_dir)
    resolved = comparable_config(cfg)
    previous = folder.read_summary()
    if previous is not None and previous.get("status") == "finished" and not cfg.overwrite:
        if folder.config.exists() and folder.config.read_text() == resolved:
            log.info("%s already holds this finished run; skipping (overwrite=true redoes it)", run_dir)
            return previous
        raise UserError(
            f"{run_dir} holds a finished run with a different config; pass overwrite=true to replace it "
            "or set output_root to another folder"
        )
    data = instantiate_checked(cfg.dataset, "dataset")
    plan = plan_experiment(cfg, data)
    selector = instantiate_checked(cfg.selector, "selector")
    loop = ActiveLearning(cfg, data, plan, selector)

    for stale in (folder.metrics, folder.timings, folder.summary):
        stale.unlink(missing_ok=True)
    atomic_write_text(folder.config, resolved)
    logger = build_logger(cfg, run_dir)
    started = time.time()
    records: list[dict[str, Any]] = []
    timings: list[dict[str, Any]] = []
    names = choice_names(cfg)
    log.info("run %s: %s, %d rounds of %d pairs -> %s", names["selector"], names["setup"], plan.rounds,
             plan.batch_size, run_dir)
    try:
        for round_index in range(plan.rounds + 1):
            result = loop.run_round(round_index)
            record, timing = result.record, result.timings
            folder.save_selection(round_index, result.pairs, result.labels)
            folder.append_records(folder.metrics, [record])
            folder.append_records(folder.timings, [timing])
            logger.log_round({**record, **timing})
            records.append(record)
            timings.append(timing)
            log.info(
                "round %d/%d  n_labels=%d  spearman=%.4f  bon/%d=%.4f  select %.2fs  train %.2fs",
                round_index, plan.rounds, record["n_labels"], record["spearman"], loop.evaluator.largest_n,
                record[f"bon/{loop.evaluator.largest_n}"], timing["selection_seconds"], timing["train_seconds"],
            )
    except Exception as err:
        atomic_write_json(folder.summary, {"status": "failed", "reason": f"{type(err).__name__}: {err}",
                                           "rounds_completed": len(records), **names})
        logger.finish({"status": "failed"})
        raise
    summary = summarise(records, timings, names, data, loop.evaluator.largest_n, time.time() - started)
    atomic_write_json(folder.summary, summary)
    logger.finish(summary)
    print(format_round_table(records, timings, loop.evaluator.largest_n))
    print(f"outputs: {run_dir.resolve()}")
    return summary


def summarise(
    records: list[dict[str, Any]], timings: list[dict[str, Any]], names: dict[str, str], data: PreferenceData,
    largest_n: int, wall_seconds: float,
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
        "data_checksums": {path.name: provenance.file_checksum(path) for path in data.files},
    }
