"""Seconds and memory of one selection per selector and size: ``python -m benchmark.perf selectors [--quick]``.

Each selector is built from its YAML in conf/selector/ and given a synthetic round: an in-prompt pool of
N pairs (10 responses per prompt, so R = N/4.5 responses), GELU features of width h, and 1,000
labelled pairs. Beside them, in the same run, the published D-opt rule as its authors wrote it (float32,
an N×h×h tensor of per-pair outer products, autograd of log det) runs at the sizes where that tensor
fits. Every selector runs once at a tiny size first, so one-off library start-up is not timed, and each
timing is the fastest of up to five calls on fresh contexts, which filters out other processes' load.

Memory is the peak resident set during one further call (VmHWM, reset through /proc/self/clear_refs
just before it, after malloc_trim) minus the resident set before it. It sees torch's CPU tensors, which
tracemalloc does not; on a GPU the column is host memory only. Timings on a shared machine are noisy;
``--threads 1`` avoids thread contention there.
"""

import argparse
import contextlib
import ctypes
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from omegaconf import OmegaConf

from benchmark.config import Pairing, instantiate_checked
from benchmark.diagnostics import batch_diagnostics
from benchmark.paths import CONF_DIR
from benchmark.perf.memory import status_mb
from benchmark.pools import build_pool
from benchmark.selectors import SelectionContext, Selector

RESPONSES_PER_PROMPT = 10
LABELLED = 1000
#: Each timing is the fastest of up to REPEATS calls, stopping once REPEAT_SECONDS are spent.
REPEATS = 5
REPEAT_SECONDS = 20.0
#: (name, YAML, parameter overrides); ``bald_ensemble`` is BALD with the bootstrap-ensemble posterior.
SELECTORS: list[tuple[str, str, dict]] = [
    ("random", "random", {}),
    ("entropy", "entropy", {}),
    ("maxdiff", "maxdiff", {}),
    ("dopt", "dopt", {}),
    ("pastaware_dopt", "pastaware_dopt", {}),
    ("xtx", "xtx", {}),
    ("greedy_dopt", "greedy_dopt", {}),
    ("bald", "bald", {}),
    ("bald_ensemble", "bald", {"posterior": "ensemble"}),
    ("batchbald", "batchbald", {}),
    ("coreset", "coreset", {}),
]


@dataclass(frozen=True)
class Plan:
    """Sizes of one benchmark run."""

    sizes: list[tuple[int, int]]  # (N, h)
    batch: int
    greedy_batch: int  # extra greedy_dopt row at the largest size
    speedup_size: tuple[int, int]  # where dopt is compared with the reference
    logdet_size: tuple[int, int]
    logdet_contexts: int


FULL = Plan([(5000, 256), (22500, 512)], 125, 1000, (5000, 256), (4500, 64), 3)
QUICK = Plan([(200, 8), (600, 16)], 10, 30, (600, 16), (200, 8), 2)


def synthetic_context(pairs: int, width: int, seed: int, device: torch.device) -> SelectionContext:
    """A round with an in-prompt pool of ``pairs`` pairs, GELU features and ``LABELLED`` labelled pairs."""
    rng = np.random.default_rng(seed)
    k = RESPONSES_PER_PROMPT
    prompts = math.ceil(pairs / (k * (k - 1) // 2))
    table_size = prompts * k + 2 * LABELLED
    table = torch.nn.functional.gelu(torch.as_tensor(rng.standard_normal((table_size, width)), dtype=torch.float32))
    table = table.to(device)
    pool = build_pool(np.arange(prompts), k, Pairing.in_prompt, pairs, np.zeros(0, np.int64), table_size, rng)
    labelled = prompts * k + rng.choice(2 * LABELLED, size=(LABELLED, 2), replace=True)
    labelled = labelled[labelled[:, 0] != labelled[:, 1]]
    return SelectionContext(
        pool=pool,
        features=table[torch.as_tensor(pool.response_ids, device=device)],
        head=torch.as_tensor(rng.normal(scale=2 / math.sqrt(width), size=width), dtype=torch.float32, device=device),
        labelled_pairs=labelled,
        labels=(rng.random(len(labelled)) < 0.5).astype(np.int8),
        featurize=lambda ids: table[torch.as_tensor(ids, device=device)],
        rng=np.random.default_rng(seed + 1),
    )


def build(yaml: str, overrides: dict) -> Selector:
    node = OmegaConf.merge(OmegaConf.load(CONF_DIR / "selector" / f"{yaml}.yaml"), overrides)
    return instantiate_checked(node, "selector")


def warm_up(device: torch.device) -> None:
    """One tiny selection per selector and of the reference, so library start-up is not timed."""
    pairs, width = QUICK.sizes[0]
    for _, yaml, overrides in SELECTORS:
        build(yaml, overrides).select(synthetic_context(pairs, width, 0, device), QUICK.batch)
    reference_dopt(synthetic_context(pairs, width, 0, device), QUICK.batch)


def reference_dopt(context: SelectionContext, n: int) -> np.ndarray:
    """The published rule as written: float32 N×h×h outer products, weighted sum, logdet, backward, topk."""
    first, second = context.pool_index
    differences = context.features[first] - context.features[second]
    with torch.no_grad():
        variance = torch.sigmoid(differences @ context.head)
        variance = variance * (1 - variance)
    weights = torch.ones_like(variance, requires_grad=True)
    outer = differences[:, None, :] * differences[:, :, None] * variance[:, None, None] * weights[:, None, None]
    eye = torch.eye(differences.shape[1], device=differences.device)
    torch.logdet(outer.sum(0) + 1e-6 * eye).backward()
    return torch.topk(weights.grad, n).indices.cpu().numpy()


def reference_bytes(pairs: int, width: int) -> int:
    """Peak of the reference: about four float32 N×h×h tensors live at once (products and saved grads)."""
    return 4 * pairs * width * width * 4


def peak_memory(select: Callable[[SelectionContext], np.ndarray], context: SelectionContext,
                device: torch.device) -> float:
    """MiB of peak resident memory during ``select(context)`` above the level before it (NaN if unreadable).

    malloc_trim first hands freed heap pages back to the OS, so memory that earlier calls freed but malloc
    kept is not silently reused (which would hide it); then VmHWM is reset to the current resident set.
    """
    with contextlib.suppress(OSError, AttributeError):  # not glibc: freed heap pages may hide some memory
        ctypes.CDLL(None).malloc_trim(0)
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return math.nan
    before = status_mb("VmRSS")
    select(context)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return status_mb("VmHWM") - before


def measure(select: Callable[[SelectionContext], np.ndarray], make_context: Callable[[], SelectionContext],
            device: torch.device) -> tuple[np.ndarray, float, float]:
    """Rows, the fastest of up to ``REPEATS`` calls (each on a fresh context, within ``REPEAT_SECONDS``),
    and the peak memory of one more call (:func:`peak_memory`), kept apart so timings see a warm heap."""
    fastest, spent = math.inf, 0.0
    for _ in range(REPEATS):
        context = make_context()
        start = time.perf_counter()
        rows = select(context)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds = time.perf_counter() - start
        fastest, spent = min(fastest, seconds), spent + seconds
        if spent > REPEAT_SECONDS:
            break
    return rows, fastest, peak_memory(select, make_context(), device)


def row(name: str, pairs: int, width: int, n: int, seconds: float, mib: float, note: str = "") -> str:
    return f"{name:<16}{pairs:>7}{width:>6}{n:>6}{seconds:>11.3f}{mib:>12.1f}  {note}"


def speed_table(plan: Plan, device: torch.device, reference_limit: float) -> dict[tuple[str, int, int, int], float]:
    """Print one row per selector and size; returns the seconds of each (name, N, h, n)."""
    print(f"{'selector':<16}{'N':>7}{'h':>6}{'n':>6}{'seconds':>11}{'peak MiB':>12}")
    seconds: dict[tuple[str, int, int, int], float] = {}
    largest = max(plan.sizes)
    for pairs, width in plan.sizes:

        def make_context(pairs: int = pairs, width: int = width) -> SelectionContext:
            return synthetic_context(pairs, width, 0, device)

        runs = [(name, yaml, overrides, plan.batch) for name, yaml, overrides in SELECTORS]
        if (pairs, width) == largest:
            runs.append(("greedy_dopt", "greedy_dopt", {}, plan.greedy_batch))
        for name, yaml, overrides, n in runs:
            selector = build(yaml, overrides)
            _, took, mib = measure(lambda c, s=selector, n=n: s.select(c, n), make_context, device)
            seconds[(name, pairs, width, n)] = took
            print(row(name, pairs, width, n, took, mib))
        needed = reference_bytes(pairs, width)
        if needed > reference_limit * 2**30:
            print(row("reference dopt", pairs, width, plan.batch, math.nan, math.nan,
                      f"skipped: needs ~{needed / 2**30:.0f} GiB (> --reference-gib {reference_limit:g})"))
            continue
        picked, took, mib = measure(lambda c: reference_dopt(c, plan.batch), make_context, device)
        ours = build("dopt", {}).select(make_context(), plan.batch)
        overlap = len(set(picked.tolist()) & set(ours.tolist())) / plan.batch
        seconds[("reference", pairs, width, plan.batch)] = took
        print(row("reference dopt", pairs, width, plan.batch, took, mib, f"same picks as dopt: {overlap:.0%}"))
    return seconds


def logdet_comparison(plan: Plan, device: torch.device) -> None:
    """Mean fisher_logdet (the logged diagnostic) of greedy batches vs top-n batches over a few rounds."""
    pairs, width = plan.logdet_size
    print(f"\nmean fisher_logdet of a batch of {plan.batch} (N={pairs}, h={width}, {plan.logdet_contexts} contexts):")
    for past_aware, top_yaml in ((False, "dopt"), (True, "pastaware_dopt")):
        values = []
        for yaml, params in (("greedy_dopt", {"past_aware": past_aware}), (top_yaml, {})):
            logdets = []
            for seed in range(plan.logdet_contexts):
                context = synthetic_context(pairs, width, seed, device)
                rows = build(yaml, params).select(context, plan.batch)
                logdets.append(batch_diagnostics(context, rows)["fisher_logdet"])
            values.append(float(np.mean(logdets)))
        name = f"greedy_dopt past_aware={str(past_aware).lower()}"
        print(f"  {name:<28}{values[0]:>10.2f}   {top_yaml:<16}{values[1]:>10.2f}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmark.perf selectors", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (seconds), for a smoke test")
    parser.add_argument("--device", default="cpu", help="torch device of the synthetic features (default cpu)")
    parser.add_argument("--reference-gib", type=float, default=8.0,
                        help="run the autograd reference only where its tensors need less than this (default 8)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's); 1 avoids thread contention on a busy machine")
    options = parser.parse_args(argv)
    plan = QUICK if options.quick else FULL
    device = torch.device(options.device)
    if options.threads is not None:
        torch.set_num_threads(options.threads)
    print(f"device {device}, {torch.get_num_threads()} torch CPU threads")
    warm_up(device)
    seconds = speed_table(plan, device, options.reference_gib)
    logdet_comparison(plan, device)
    pairs, width = plan.speedup_size
    reference = seconds.get(("reference", pairs, width, plan.batch))
    speedup = reference / seconds[("dopt", pairs, width, plan.batch)] if reference is not None else math.nan
    print(f"dopt speedup vs autograd reference (N={pairs}, h={width}): {speedup:.0f}×")
