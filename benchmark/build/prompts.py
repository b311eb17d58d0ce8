"""Stage (a): prompts from a Hugging Face dataset, local json/parquet files, or a ShareGPT file.

HH-RLHF rows hold whole dialogues; the prompt is the ``chosen`` text up to and including its last
"\\n\\nAssistant:", the cue the policy continues from (docs/method.md §1.1). A ShareGPT file (``format=sharegpt``)
holds conversations; the prompt is a conversation's opening user turn, and one file serves both splits through a
seeded shuffle (test prompts first, so a larger train limit never changes the test set). Prompts longer than
``max_tokens`` tokens of the generator's tokenizer are skipped, as in the authors' code.
"""

import json
import logging
import random
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from benchmark.build.hf import load_tokenizer
from benchmark.build.workdir import WorkDir, check_params, save_jsonl, stage_params
from benchmark.data.entries import entry_problem
from benchmark.errors import UserError
from benchmark.outputs import atomic_write_json

log = logging.getLogger(__name__)

ASSISTANT_CUE = "\n\nAssistant:"
TOKENIZE_BATCH = 1024
FILE_FORMATS = ("json", "parquet", "csv", "text", "arrow")
PROMPT_FORMATS = ("hh", "plain", "sharegpt")
#: ShareGPT prompts: mostly ASCII (the golden scorer and the LLM are English models), a few words at least.
MIN_ASCII_FRACTION, MIN_WORDS = 0.99, 3
#: Characters per token above which a prompt is skipped before tokenizing (a speed filter for 90k prompts).
MAX_CHARS_PER_TOKEN = 16


def extract_prompt(text: str) -> str | None:
    """The dialogue up to the last assistant cue, or None when it has none."""
    index = text.rfind(ASSISTANT_CUE)
    return None if index < 0 else text[: index + len(ASSISTANT_CUE)]


def run_prompts(cfg: DictConfig, work: WorkDir, splits: list[str]) -> None:
    settings = cfg.prompts
    if settings.format not in PROMPT_FORMATS:
        raise UserError(f"prompts.format={settings.format!r} is not hh (cut a dialogue at its last assistant cue), "
                        "plain (the column is the prompt) or sharegpt (a conversation's opening user turn)")
    for split in splits:
        path = work.prompts(split)
        check_params(path.parent, stage_params(cfg, "prompts"))
        if path.exists():
            log.info("prompts of %s: %s exists, skipping", split, path)
            continue
        texts, candidates = _candidates(settings, split)
        with_cue = [p for p in candidates if p]
        short = within_length(with_cue, load_tokenizer(settings.tokenizer, "right"), settings.max_tokens)
        kept = _split_of(short, split, settings.limit, cfg.seed) if settings.format == "sharegpt" else (
            short if settings.limit[split] is None else short[: settings.limit[split]])
        if not kept:
            raise UserError(f"no prompts left for split {split} of prompts.path={settings.path}; check the column "
                            "and format, or raise prompts.max_tokens")
        save_jsonl(path, [{"prompt": p} for p in kept])
        stats = {"rows": len(texts), "without_cue": len(candidates) - len(with_cue),
                 "too_long": len(with_cue) - len(short), "kept": len(kept)}
        atomic_write_json(path.parent / "stats.json", stats)
        log.info("prompts of %s: %s", split, stats)


def _candidates(settings: DictConfig, split: str) -> tuple[list[Any], list[str | None]]:
    """The source rows of a split and the prompt of each (None where a row has no usable prompt)."""
    if settings.format == "sharegpt":
        rows = read_sharegpt(Path(settings.path))
        longest = MAX_CHARS_PER_TOKEN * settings.max_tokens
        return rows, [p if p and len(p) <= longest else None for p in _unique(map(opening_turn, rows))]
    texts = load_column(settings, split)
    return texts, [extract_prompt(t) for t in texts] if settings.format == "hh" else list(texts)


def read_sharegpt(path: Path) -> list[dict[str, Any]]:
    """The conversations of a ShareGPT JSON array, up to the last complete one (packaged copies are cut short)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        if problem := entry_problem(path, "file"):
            raise UserError(f"prompts.path={path}: {problem}") from err
        raise UserError(f"cannot read prompts.path={path} ({err}); point it at a ShareGPT JSON file") from err
    decoder, rows, index = json.JSONDecoder(), [], text.find("[") + 1
    while index > 0:
        while index < len(text) and text[index] in " \t\r\n,":
            index += 1
        try:
            row, index = decoder.raw_decode(text, index)
        except json.JSONDecodeError:
            break
        rows.append(row)
    if not rows:
        raise UserError(f"prompts.path={path} holds no ShareGPT conversations (a JSON array of objects)")
    return rows


def opening_turn(row: Any) -> str | None:
    """The user's opening message, if the conversation starts with one in (mostly) English."""
    turns = row.get("conversations") if isinstance(row, dict) else None
    if not turns or not isinstance(turns[0], dict) or turns[0].get("from") != "human":
        return None
    text = str(turns[0].get("value", "")).strip()
    ascii_share = sum(c.isascii() for c in text) / max(len(text), 1)
    return text if ascii_share >= MIN_ASCII_FRACTION and len(text.split()) >= MIN_WORDS else None


def _unique(prompts: Any) -> list[str | None]:
    """Later copies of a prompt become None: a prompt in both splits would leak test prompts into training."""
    seen: set[str] = set()
    out: list[str | None] = []
    for prompt in prompts:
        out.append(None if prompt is None or prompt in seen else prompt)
        seen.add(prompt)
    return out


def _split_of(prompts: list[str], split: str, limit: DictConfig, seed: int) -> list[str]:
    """This split's share of one seeded shuffle: the first ``limit.test`` prompts are test, the next train."""
    if limit.test is None:
        raise UserError("prompts.limit.test must be a number with format=sharegpt (one file serves both splits)")
    order = list(prompts)
    random.Random(seed).shuffle(order)
    start = 0 if split == "test" else limit.test
    stop = None if limit[split] is None else start + limit[split]
    return order[start:stop]


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
