"""Loading Hugging Face models and tokenizers, and the padding arithmetic every stage relies on."""

from typing import Any

import torch

from benchmark.errors import UserError


def load_tokenizer(path: str, padding_side: str | None = None) -> Any:
    """A tokenizer that can pad (decoder-only LLMs often ship without a pad token, so reuse EOS).

    ``padding_side`` None keeps the tokenizer's own.
    """
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
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

    try:
        model = getattr(transformers, auto_class).from_pretrained(path, dtype=torch_dtype(dtype, device))
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
    """Tokenize prompt and response as a tokenizer pair (the authors' embedding input) or as one string."""
    options = {"padding": True, "truncation": True, "max_length": max_length, "return_tensors": "pt"}
    if mode == "pair":
        return tokenizer(prompts, responses, **options)
    if mode == "concat":
        return tokenizer([p + separator + r for p, r in zip(prompts, responses, strict=True)], **options)
    raise UserError(f"input={mode!r} is not one of pair, concat")


def positions(attention_mask: torch.Tensor) -> torch.Tensor:
    """Position ids that count only real tokens, so left padding does not shift a sequence's positions."""
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)


def last_token_index(attention_mask: torch.Tensor) -> torch.Tensor:
    """Index of each row's last real token; position −1 is a pad token under right padding."""
    return attention_mask.shape[1] - 1 - attention_mask.long().flip(-1).argmax(-1)
