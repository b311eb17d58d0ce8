"""The loop shared by the reward and embedding stages: a model over every (prompt, response) of a shard.

A stage supplies how to load its model and how to turn a batch into one row per response; this
module handles shards, skipping finished ones, batching, progress and the (prompts, K, ...) layout.
"""

import logging
from collections.abc import Callable

import numpy as np
from omegaconf import DictConfig
from tqdm import tqdm

from benchmark.build.workdir import WorkDir, check_params, save_npy, shards, stage_params

log = logging.getLogger(__name__)

#: ``score(prompts, responses) -> (batch, ...)`` array, one row per response.
Scorer = Callable[[list[str], list[str]], np.ndarray]


def score_shards(
    cfg: DictConfig, work: WorkDir, splits: list[str], stage: str, make_scorer: Callable[[], Scorer]
) -> None:
    """Write ``<stage>/<shard>.npy`` of shape (prompts, K, ...) for every shard whose responses exist."""
    batch_size = cfg[stage].batch_size
    scorer: Scorer | None = None
    for split in splits:
        prompts = work.read_prompts(split)
        check_params(work.stage(split, stage), stage_params(cfg, stage))
        mine = shards(cfg, split, len(prompts))
        ready = [s for s in mine if work.shard(split, "responses", s).exists()]
        todo = [s for s in ready if not work.shard(split, stage, s).exists()]
        if len(ready) < len(mine):
            log.warning("%s of %s: %d shards have no responses yet; run the responses stage for them",
                        stage, split, len(mine) - len(ready))
        if not todo:
            continue
        scorer = scorer or make_scorer()
        per_prompt = cfg.responses.per_prompt[split]
        bar = tqdm(total=sum(s.prompts for s in todo) * per_prompt, desc=f"{stage} {split}", unit="seq")
        for shard in todo:
            responses = work.read_responses(split, shard)
            pairs = [(prompts[shard.start + i], r) for i, group in enumerate(responses) for r in group]
            rows: list[np.ndarray] = []
            for start in range(0, len(pairs), batch_size):
                batch = pairs[start : start + batch_size]
                rows.append(scorer([p for p, _ in batch], [r for _, r in batch]))
                bar.update(len(batch))
            block = np.concatenate(rows).reshape(shard.prompts, per_prompt, *rows[0].shape[1:])
            save_npy(work.shard(split, stage, shard), block)
        bar.close()

