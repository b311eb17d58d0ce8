"""Loading Hugging Face models and tokenizers, and the padding arithmetic every stage relies on.

A model is a hub name, a local checkpoint folder, or a ``.gguf`` file (how real LLMs reach machines whose only
network is a package registry). Transformers de-quantises a GGUF file on every load, which takes minutes for
larger models on a CPU, so it is converted once into a float32 checkpoint under ``<cache>/models/`` keyed by the
file's checksum, and later loads read that.
"""

import logging
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from filelock import FileLock

from benchmark.errors import UserError
from benchmark.provenance import file_checksum

log = logging.getLogger(__name__)
GGUF_SUFFIX = ".gguf"


def load_tokenizer(path: str, padding_side: str | None = None) -> Any:
    """A tokenizer that can pad (decoder-only LLMs often ship without a pad token, so reuse EOS).

    ``padding_side`` None keeps the tokenizer's own.
    """
    from transformers import AutoTokenizer

    local = checkpoint(path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(local)
    except (OSError, ValueError) as err:
        raise UserError(f"cannot load a tokenizer from {path!r} ({err}); check the model name or local path") from err
    tokenizer.padding_side = padding_side or tokenizer.padding_side
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise UserError(f"the tokenizer of {path!r} has neither a pad nor an EOS token; add a pad token, save it")
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(auto_class: str, path: str, device: torch.device, dtype: str) -> Any:
    """``transformers.<auto_class>`` on ``device`` in eval mode; ``dtype=auto`` is bfloat16 on GPU, else float32."""
    import transformers

    local = checkpoint(path)
    try:
        model = getattr(transformers, auto_class).from_pretrained(local, dtype=torch_dtype(dtype, device))
    except (OSError, ValueError) as err:
        raise UserError(
            f"cannot load {auto_class} from {path!r} ({err}); check the name or path (gated models need "
            "`hf auth login`)"
        ) from err
    return model.to(device).eval()


def torch_dtype(name: str, device: torch.device) -> torch.dtype:
    if name == "auto":
        return torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    if not isinstance(getattr(torch, name, None), torch.dtype):
        raise UserError(f"dtype={name!r} is not a torch dtype; use auto, float32, bfloat16 or float16")
    return getattr(torch, name)


def encode(
    tokenizer: Any, prompts: list[str], responses: list[str], mode: str, separator: str, max_length: int
) -> Any:
    """Tokenize prompt and response as a tokenizer pair (the authors' embedding input), as one string, or as the
    instruction model saw them: the chat-formatted prompt followed by its response (no end-of-turn token, so the
    last real token is the response's own last token, as in the pair input)."""
    options = {"padding": True, "truncation": True, "max_length": max_length, "return_tensors": "pt"}
    if mode == "pair":
        return tokenizer(prompts, responses, **options)
    if mode == "concat":
        return tokenizer([p + separator + r for p, r in zip(prompts, responses, strict=True)], **options)
    if mode == "chat":
        texts = [chat_prompt(tokenizer, p) + r for p, r in zip(prompts, responses, strict=True)]
        return tokenizer(texts, add_special_tokens=False, **options)
    raise UserError(f"input={mode!r} is not one of pair, concat, chat")


def positions(attention_mask: torch.Tensor) -> torch.Tensor:
    """Position ids that count only real tokens, so left padding does not shift a sequence's positions."""
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)


def last_token_index(attention_mask: torch.Tensor) -> torch.Tensor:
    """Index of each row's last real token; position −1 is a pad token under right padding."""
    return attention_mask.shape[1] - 1 - attention_mask.long().flip(-1).argmax(-1)


def chat_prompt(tokenizer: Any, prompt: str) -> str:
    """The prompt as a one-turn chat, ending with the assistant cue an instruction model answers from."""
    if not tokenizer.chat_template:
        raise UserError(f"the tokenizer of {tokenizer.name_or_path!r} has no chat template; set chat=false "
                        "(responses.chat / embeddings.input=pair)")
    return tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                         add_generation_prompt=True)


def checkpoint(path: str) -> str:
    """``path`` itself, or for a ``.gguf`` file the folder of its converted checkpoint (converted on first use)."""
    source = Path(path).expanduser()
    if source.suffix != GGUF_SUFFIX:
        return path
    if not source.is_file():
        raise UserError(f"{source} is not a file; point the model at an existing .gguf file")
    cache = Path(os.environ.get("ARM_BENCH_CACHE", "~/.cache/arm-bench")).expanduser() / "models"
    target = cache / f"{source.stem}-{file_checksum(source)}"
    cache.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if not (target / "config.json").exists():
            _convert(source, target)
    return str(target)


def _convert(source: Path, target: Path) -> None:
    """De-quantise a GGUF file into a float32 checkpoint with its tokenizer (and chat template), atomically."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("converting %s once into %s", source, target)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        options = {"gguf_file": source.name}
        AutoTokenizer.from_pretrained(source.parent, **options).save_pretrained(partial)
        loaded = AutoModelForCausalLM.from_pretrained(source.parent, dtype=torch.float32, **options)
    except ImportError as err:
        raise UserError(f"loading {source} needs the gguf and accelerate packages ({err}); "
                        "pip install 'arm-bench[build]'") from err
    # A model loaded from GGUF refuses save_pretrained and, with its quantisation config, would load again as
    # packed weights run through slow kernels; a plain copy of the de-quantised weights does neither.
    config = loaded.config.__class__.from_dict(
        {k: v for k, v in loaded.config.to_dict().items() if k != "quantization_config"})
    model = type(loaded)(config)
    model.load_state_dict(loaded.state_dict())
    model.save_pretrained(partial)
    partial.rename(target)
