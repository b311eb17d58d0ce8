"""Stage (c): the golden reward of each response, from a sequence-classification reward model.

The input is prompt + response as one string, truncated to ``max_length`` tokens, and the score is the
model's single logit (docs/method.md §1.2). Right padding: the classifier finds the last real token itself.
"""

from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig

from benchmark.build.hf import encode, load_model, load_tokenizer
from benchmark.build.scoring import Scorer, score_shards
from benchmark.build.workdir import WorkDir
from benchmark.errors import UserError
from benchmark.reward_model import resolve_device


def run_rewards(cfg: DictConfig, work: WorkDir, splits: list[str]) -> None:
    score_shards(cfg, work, splits, "rewards", lambda: reward_scorer(cfg.rewards, resolve_device(cfg.device, "device")))


def reward_scorer(settings: DictConfig, device: torch.device) -> Scorer:
    tokenizer = load_tokenizer(settings.model, "right")
    model = load_model("AutoModelForSequenceClassification", settings.model, device, settings.dtype)
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    if model.config.num_labels != 1:
        raise UserError(f"rewards.model={settings.model} has {model.config.num_labels} outputs; a golden reward "
                        "model must output one score (num_labels=1)")

    @torch.no_grad()
    def score(prompts: list[str], responses: list[str]) -> np.ndarray:
        batch: Any = encode(tokenizer, prompts, responses, settings.input, settings.separator, settings.max_length)
        return model(**batch.to(device)).logits[:, 0].float().cpu().numpy()

    return score
