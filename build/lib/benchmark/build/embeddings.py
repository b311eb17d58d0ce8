"""Stage (d): one embedding per response, the last layer's hidden state at its last real token.

The authors read position −1 of a ``padding="max_length"`` batch, which is a pad token whenever the
tokenizer pads on the right (docs/method.md §1.2). Here the last real token is found from the attention
mask and position ids count real tokens only, so left- and right-padding tokenizers give the same
vector. The base model (``AutoModel``) is used: its last hidden state is what a classification
wrapper's ``hidden_states[-1]`` holds, without loading an untrained head.
"""

from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig

from benchmark.build.hf import encode, last_token_index, load_model, load_tokenizer, positions
from benchmark.build.scoring import Scorer, score_shards
from benchmark.build.workdir import WorkDir
from benchmark.errors import UserError
from benchmark.reward_model import resolve_device


def run_embeddings(cfg: DictConfig, work: WorkDir, splits: list[str]) -> None:
    score_shards(cfg, work, splits, "embeddings",
                 lambda: embedding_scorer(cfg.embeddings, resolve_device(cfg.device, "device")))


def embedding_scorer(settings: DictConfig, device: torch.device, padding_side: str | None = None) -> Scorer:
    """``padding_side`` None keeps the tokenizer's own; the result does not depend on it."""
    tokenizer = load_tokenizer(settings.model, padding_side)
    model = load_model("AutoModel", settings.model, device, settings.dtype)
    save_as = np.dtype(settings.save_as)

    @torch.no_grad()
    def embed(prompts: list[str], responses: list[str]) -> np.ndarray:
        batch: Any = encode(tokenizer, prompts, responses, settings.input, settings.separator, settings.max_length)
        batch = batch.to(device)
        mask = batch["attention_mask"]
        hidden = model(**batch, position_ids=positions(mask)).last_hidden_state
        rows = hidden[torch.arange(hidden.shape[0], device=device), last_token_index(mask)]
        values = rows.float().cpu().numpy()
        cast = values.astype(save_as)
        if not np.isfinite(cast).all():
            raise UserError(
                f"embeddings of {settings.model} are not finite after casting to {save_as} (largest |value| "
                f"{np.nanmax(np.abs(values)):.3g}); set embeddings.save_as=float32"
            )
        return cast

    return embed

