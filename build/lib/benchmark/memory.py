"""A run's memory, estimated before anything large is allocated.

Running out of memory kills the process with no Python error (the OOM killer) or ends a GPU run with an
opaque CUDA error, so the largest allocations of a run are estimated from its config and the data's
shape and compared with what the machine has. The estimate counts only the big arrays, so it errs low:
it stops runs that cannot fit, never a run that would.
"""

from dataclasses import dataclass
from pathlib import Path

import torch

from benchmark import pools
from benchmark.data import PreferenceData
from benchmark.errors import UserError
from benchmark.metrics import effective_chunk_prompts
from benchmark.spec import RunSpec

#: A listed pool pair: first/second/key int64 plus the selector's index tensors and float64 score.
POOL_BYTES_PER_PAIR = 64
#: float32, as the model and its inputs are.
FLOAT = 4
DOUBLE = 8
MEMINFO = Path("/proc/meminfo")


@dataclass(frozen=True)
class Part:
    """One large allocation: what it is, its size, the keys that shrink it, and where it lives."""

    what: str
    bytes: int
    fix: str
    on_device: bool


def estimate(spec: RunSpec, data: PreferenceData) -> list[Part]:
    """The largest allocations of a run with ``spec`` on ``data``."""
    ev = spec.eval
    h, layers, d = spec.reward_model.width, spec.reward_model.layers, data.dim
    k = data.responses_per_prompt
    responses = spec.prompts_per_round * k
    space = pools.pair_space_size(spec.prompts_per_round, k, spec.pairing)
    implicit = pools.is_implicit(space, spec.pairing, spec.cap)
    listed = 0 if implicit else space if spec.cap is None else min(spec.cap, space)
    labelled = min(2 * (spec.initial_labels + spec.rounds * spec.batch_size), data.train_prompts * k)
    test_prompts = len(data.test_embeddings) if ev.test_prompts is None else ev.test_prompts
    test_prompts = min(test_prompts, len(data.test_embeddings))
    test_k = data.test_embeddings.shape[1]
    chunk = min(effective_chunk_prompts(ev.chunk_prompts, test_k, d), test_prompts) * test_k
    parameters = (d * h + (layers - 1) * h * h + h) if layers else d
    return [
        Part(f"candidate pool ({listed:,} pairs)", listed * POOL_BYTES_PER_PAIR,
             "lower candidates_per_round or prompts_per_round", on_device=False),
        Part(f"features of a round's {responses:,} responses (h={h})", responses * h * (FLOAT + 2 * DOUBLE),
             "lower prompts_per_round or reward_model.width", on_device=True),
        Part(f"Fisher information (h x h float64, h={h})", 3 * h * h * DOUBLE, "lower reward_model.width",
             on_device=True),
        Part(f"reward model with Adam state ({parameters:,} parameters)", 4 * parameters * FLOAT,
             "lower reward_model.width or reward_model.layers", on_device=True),
        Part(f"training on {labelled:,} labelled responses", labelled * (d + 3 * h * layers) * FLOAT,
             "lower budget or reward_model.width", on_device=True),
        Part(f"evaluation chunk ({chunk:,} test responses)", chunk * (d + 2 * h) * FLOAT,
             "lower eval.chunk_prompts", on_device=True),
        Part(f"evaluation draws ({ev.bon_repeats} x {test_prompts:,} x {test_k})",
             ev.bon_repeats * test_prompts * test_k * FLOAT + test_prompts * test_k * 2 * DOUBLE,
             "lower eval.bon_repeats or eval.test_prompts", on_device=False),
    ]


def available_host_bytes() -> int | None:
    """MemAvailable from /proc/meminfo (what can be allocated without swapping); None where unknown."""
    try:
        for line in MEMINFO.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def available_device_bytes(device: torch.device) -> int | None:
    """Free memory of a CUDA device; None for the CPU (its memory is the host's)."""
    if device.type != "cuda":
        return None
    return int(torch.cuda.mem_get_info(device)[0])


def check_memory(spec: RunSpec, data: PreferenceData, device: torch.device) -> None:
    """Stop with the largest part and the keys that shrink it when the run cannot fit in memory."""
    parts = estimate(spec, data)
    on_gpu = device.type == "cuda"
    budgets = [("host", [p for p in parts if not (on_gpu and p.on_device)], available_host_bytes())]
    if on_gpu:
        budgets.append((f"{device} GPU", [p for p in parts if p.on_device], available_device_bytes(device)))
    for where, needed, available in budgets:
        total = sum(p.bytes for p in needed)
        if available is not None and needed and total > available:
            largest = max(needed, key=lambda p: p.bytes)
            raise UserError(
                f"the run needs about {_size(total)} of {where} memory but {_size(available)} is available; "
                f"the largest part is the {largest.what} at {_size(largest.bytes)}: {largest.fix}"
            )


def check_allocation(part: Part) -> None:
    """Stop before one whole array that a run holds in host memory outside :func:`estimate` cannot fit.

    Such arrays are made while the data loads (synthetic data generated in memory when the cache cannot be
    written), before :func:`check_memory` can run, so they are checked on their own, just before allocation.
    """
    available = available_host_bytes()
    if available is not None and part.bytes > available:
        raise UserError(
            f"the {part.what} needs about {_size(part.bytes)} of host memory but {_size(available)} is "
            f"available: {part.fix}"
        )


def _size(count: int) -> str:
    return f"{count / 2**30:.1f} GiB" if count >= 2**30 else f"{count / 2**20:.1f} MiB"
