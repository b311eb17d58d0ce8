"""The build's checkpoints on disk: a folder per split and stage, a file per shard of prompts.

Every file is written under a temporary name and renamed, so an interrupted build leaves only whole
shards and a rerun skips them. Each stage folder records the settings it was built with, and a rerun
with other settings stops instead of mixing shards of two configurations.
"""

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from benchmark.errors import UserError
from benchmark.outputs import atomic_write_bytes, atomic_write_json, atomic_write_text, read_jsonl

SUFFIX = {"responses": "jsonl", "rewards": "npy", "embeddings": "npy"}
UPSTREAM = {"prompts": (), "responses": ("prompts",), "rewards": ("prompts", "responses"),
            "embeddings": ("prompts", "responses")}
#: Settings that change speed or where files go, not what a shard contains.
NOT_RESULTS = ("batch_size", "cache_dir")


@dataclass(frozen=True)
class Shard:
    index: int
    start: int
    stop: int

    @property
    def prompts(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class WorkDir:
    root: Path

    def stage(self, split: str, stage: str) -> Path:
        return self.root / split / stage

    def prompts(self, split: str) -> Path:
        return self.stage(split, "prompts") / "prompts.jsonl"

    def shard(self, split: str, stage: str, shard: Shard) -> Path:
        return self.stage(split, stage) / f"{shard.index:05d}.{SUFFIX[stage]}"

    def read_prompts(self, split: str) -> list[str]:
        path = self.prompts(split)
        if not path.exists():
            raise UserError(f"{path} does not exist; run the prompts stage first (stages=[prompts])")
        return [record["prompt"] for record in read_jsonl(path)]

    def read_responses(self, split: str, shard: Shard) -> list[list[str]]:
        return [record["responses"] for record in read_jsonl(self.shard(split, "responses", shard))]


def shards(cfg: DictConfig, split: str, prompts: int, every_worker: bool = False) -> list[Shard]:
    """This worker's shards of a split (every ``workers``-th one), or all of them.

    A shard holds about ``shard_size`` responses, so a test shard (K = 500) is as quick to redo
    after an interruption as a train shard (K = 10).
    """
    worker, workers = (0, 1) if every_worker else (cfg.worker, cfg.workers)
    if cfg.shard_size <= 0 or not 0 <= worker < workers:
        raise UserError(f"shard_size={cfg.shard_size}, worker={worker}, workers={workers}: need shard_size > 0 "
                        "and 0 <= worker < workers")
    size = max(1, cfg.shard_size // cfg.responses.per_prompt[split])
    blocks = [Shard(i, start, min(start + size, prompts)) for i, start in enumerate(range(0, prompts, size))]
    return [block for block in blocks if block.index % workers == worker]


def shard_seed(seed: int, split: str, shard: Shard) -> int:
    """A torch seed per shard, so a resumed build samples what an uninterrupted one would."""
    split_key = int.from_bytes(split.encode()[:8], "little")
    return int(np.random.SeedSequence([seed, split_key, shard.index]).generate_state(1, np.uint64)[0] >> 1)


def stage_params(cfg: DictConfig, stage: str) -> dict[str, Any]:
    """The settings a stage's output depends on, including those of the stages it reads."""
    params: dict[str, Any] = {} if stage == "prompts" else {"shard_size": cfg.shard_size, "seed": cfg.seed}
    for name in (*UPSTREAM[stage], stage):
        section = OmegaConf.to_container(cfg[name], resolve=True)
        params[name] = {k: v for k, v in section.items() if k not in NOT_RESULTS}
    return params


def check_params(folder: Path, params: dict[str, Any]) -> None:
    """Record a stage's settings on first use; refuse to add shards made with other settings."""
    path = folder / "params.json"
    if not path.exists():
        atomic_write_json(path, params)
        return
    recorded = _flatten(json.loads(path.read_text()))
    wanted = _flatten(json.loads(json.dumps(params)))
    for key in sorted(recorded.keys() | wanted.keys()):
        if recorded.get(key) != wanted.get(key):
            raise UserError(
                f"{folder} was built with {key}={recorded.get(key)!r}, this run has {key}={wanted.get(key)!r}; "
                "delete that folder to rebuild it, or set work_dir to another folder"
            )


def save_npy(path: Path, array: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, array)
    atomic_write_bytes(path, buffer.getvalue())


def save_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    atomic_write_text(path, "".join(json.dumps(record) + "\n" for record in records))


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
