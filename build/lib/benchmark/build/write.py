"""Stage (e): join the shards of a split into the authors' two files, then run the loader's checks on them.

Files are streamed into memory-mapped .npy files under a temporary name and renamed when complete
(``benchmark.data.files``), so the benchmark never sees a half-written file.
"""

import logging
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from benchmark.build.workdir import WorkDir, shards
from benchmark.data.files import commit_split, create_split, split_paths
from benchmark.data.validate import open_checked
from benchmark.errors import UserError

log = logging.getLogger(__name__)


def run_write(cfg: DictConfig, work: WorkDir, splits: list[str]) -> None:
    root = Path(cfg.root).expanduser()
    for split in splits:
        embd_path, reward_path = split_paths(root, cfg.names.generator, cfg.names.embedder, cfg.names.task, split)
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

