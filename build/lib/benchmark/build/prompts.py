"""Stage (a): prompts from a Hugging Face dataset or local json/parquet files.

HH-RLHF rows hold whole dialogues; the prompt is the ``chosen`` text up to and including its last
"\\n\\nAssistant:", the cue the policy continues from (docs/method.md §1.1). Prompts longer than
``max_tokens`` tokens of the generator's tokenizer are skipped, as in the authors' code.
"""

import logging
from typing import Any

from omegaconf import DictConfig, OmegaConf

from benchmark.build.hf import load_tokenizer
from benchmark.build.workdir import WorkDir, check_params, save_jsonl, stage_params
from benchmark.errors import UserError
from benchmark.outputs import atomic_write_json

log = logging.getLogger(__name__)

ASSISTANT_CUE = "\n\nAssistant:"
TOKENIZE_BATCH = 1024
FILE_FORMATS = ("json", "parquet", "csv", "text", "arrow")


def extract_prompt(text: str) -> str | None:
    """The dialogue up to the last assistant cue, or None when it has none."""
    index = text.rfind(ASSISTANT_CUE)
    return None if index < 0 else text[: index + len(ASSISTANT_CUE)]


def run_prompts(cfg: DictConfig, work: WorkDir, splits: list[str]) -> None:
    settings = cfg.prompts
    if settings.format not in ("hh", "plain"):
        raise UserError(f"prompts.format={settings.format!r} is not hh (cut a dialogue at its last assistant cue) "
                        "or plain (the column is the prompt)")
    for split in splits:
        path = work.prompts(split)
        check_params(path.parent, stage_params(cfg, "prompts"))
        if path.exists():
            log.info("prompts of %s: %s exists, skipping", split, path)
            continue
        texts = load_column(settings, split)
        candidates = [extract_prompt(t) for t in texts] if settings.format == "hh" else list(texts)
        with_cue = [p for p in candidates if p]
        short = within_length(with_cue, load_tokenizer(settings.tokenizer, "right"), settings.max_tokens)
        limit = settings.limit[split]
        kept = short if limit is None else short[:limit]
        if not kept:
            raise UserError(f"no prompts left for split {split} of prompts.path={settings.path}; check the column "
                            "and format, or raise prompts.max_tokens")
        save_jsonl(path, [{"prompt": p} for p in kept])
        stats = {"rows": len(texts), "without_cue": len(candidates) - len(with_cue),
                 "too_long": len(with_cue) - len(short), "kept": len(kept)}
        atomic_write_json(path.parent / "stats.json", stats)
        log.info("prompts of %s: %s", split, stats)


def load_column(settings: DictConfig, split: str) -> list[str]:
    """The text column of one split, via ``datasets.load_dataset`` (hub name, or json/parquet + data_files)."""
    from datasets import load_dataset

    if settings.path in FILE_FORMATS and settings.data_files is None:
        raise UserError(f"prompts.path={settings.path} reads local files; set "
                        "prompts.data_files='{train: /path/train.json, test: /path/test.json}'")
    source: dict[str, Any] = {"data_dir": settings.data_dir, "cache_dir": settings.cache_dir}
    if settings.data_files is not None:
        source["data_files"] = OmegaConf.to_container(settings.data_files, resolve=True)
    split_name = settings.split_names[split]
    try:
        rows = load_dataset(settings.path, split=split_name, **source)
    except Exception as err:  # datasets raises many types (hub, file, schema) for a bad source
        raise UserError(
            f"cannot load split {split_name!r} of prompts.path={settings.path} ({type(err).__name__}: {err}); "
            "check prompts.path / data_dir, or use prompts.path=json prompts.data_files={train: a.json, test: b.json}"
        ) from err
    if settings.column not in rows.column_names:
        raise UserError(f"prompts.column={settings.column!r} is not in {settings.path} (columns: "
                        f"{', '.join(rows.column_names)}); set prompts.column")
    return list(rows[settings.column])


def within_length(prompts: list[str], tokenizer: Any, max_tokens: int) -> list[str]:
    kept = []
    for start in range(0, len(prompts), TOKENIZE_BATCH):
        batch = prompts[start : start + TOKENIZE_BATCH]
        lengths = [len(ids) for ids in tokenizer(batch)["input_ids"]]
        kept += [p for p, n in zip(batch, lengths, strict=True) if n <= max_tokens]
    return kept
