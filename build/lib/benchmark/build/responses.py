"""Stage (b): K sampled responses per prompt from a causal LM (the policy whose outputs get ranked).

Sampling follows the authors' vLLM settings (temperature 1.0, top_p 0.95, at most 128 new tokens,
no top-k). Each response is cut at the first "\\n\\nHuman" (the model starting the next turn) and
stripped, as their annotation step does. Sequences are batched across prompts, each shard seeded.
"""

import logging
from typing import Any

import torch
from omegaconf import DictConfig
from tqdm import tqdm

from benchmark.build.hf import load_model, load_tokenizer
from benchmark.build.workdir import Shard, WorkDir, check_params, save_jsonl, shard_seed, shards, stage_params
from benchmark.reward_model import resolve_device

log = logging.getLogger(__name__)


def truncate(response: str, stop: str | None) -> str:
    """The response up to the stop string (the next dialogue turn), stripped."""
    if stop:
        index = response.find(stop)
        response = response if index < 0 else response[:index]
    return response.strip()


def run_responses(cfg: DictConfig, work: WorkDir, splits: list[str]) -> None:
    settings = cfg.responses
    model: Any = None
    for split in splits:
        prompts = work.read_prompts(split)
        check_params(work.stage(split, "responses"), stage_params(cfg, "responses"))
        per_prompt = settings.per_prompt[split]
        todo = [s for s in shards(cfg, split, len(prompts)) if not work.shard(split, "responses", s).exists()]
        if not todo:
            log.info("responses of %s: all shards done", split)
            continue
        if model is None:
            device = resolve_device(cfg.device, "device")
            tokenizer = load_tokenizer(settings.model, "left")
            model = load_model("AutoModelForCausalLM", settings.model, device, settings.dtype)
        bar = tqdm(total=sum(s.prompts for s in todo) * per_prompt, desc=f"responses {split}", unit="seq")
        for shard in todo:
            torch.manual_seed(shard_seed(cfg.seed, split, shard))
            texts = [p for p in prompts[shard.start : shard.stop] for _ in range(per_prompt)]
            samples: list[str] = []
            for start in range(0, len(texts), settings.batch_size):
                batch = texts[start : start + settings.batch_size]
                samples += [truncate(r, settings.stop) for r in sample(model, tokenizer, batch, settings)]
                bar.update(len(batch))
            save_jsonl(work.shard(split, "responses", shard), _records(shard, samples, per_prompt))
        bar.close()


def sample(model: Any, tokenizer: Any, prompts: list[str], settings: DictConfig) -> list[str]:
    """One sampled continuation per prompt; prompts are left-padded so new tokens start at one column."""
    inputs = tokenizer(prompts, return_tensors="pt", padding=True).to(model.device)
    with torch.no_grad():
        output = model.generate(
            input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"], do_sample=True, top_k=0,
            temperature=settings.temperature, top_p=settings.top_p, max_new_tokens=settings.max_new_tokens,
            pad_token_id=tokenizer.pad_token_id,
        )
    return tokenizer.batch_decode(output[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)


def _records(shard: Shard, samples: list[str], per_prompt: int) -> list[dict[str, Any]]:
    return [
        {"prompt": shard.start + i, "responses": samples[i * per_prompt : (i + 1) * per_prompt]}
        for i in range(shard.prompts)
    ]
