"""Seconds and memory of one selection per selector: ``python -m benchmark.perf selectors [--quick] [--only a,b]``.

Every YAML in conf/selector/ is built with its defaults (``hydra.utils.instantiate``, minus ``name``), so a new
selector gets its line without an edit here, and given a synthetic round: an in-prompt pool of N pairs
(10 responses per prompt, so R = N/4.5 responses), GELU features of width h and 1,000 labelled pairs.

Beside them run the authors' rules, re-implemented here step for step as references:

* D-opt (``dopt_rule``): float32 pair differences v, p(1−p) under the head, weights w = 1 that require grad,
  M = Σ_k w_k p_k(1−p_k) v_k v_kᵀ built as their N × h × h tensor of products and summed, log det M (no
  ridge), ``torch.autograd.grad`` of it with respect to w, top-n. The authors pass ``create_graph=True``,
  which only keeps a graph of the gradient alive; it is left out, so the reference is if anything faster
  and smaller than theirs.
* coreset (``coreset_rule`` → ``construct_lr_coreset_with_kmeans``): float32 v, scikit-learn ``k_means``
  (one k-means++ start, one Lloyd iteration), their fast sensitivity from ``euclidean_distances``, n draws ∝
  sensitivity with replacement.

Each timing is the median of 3 calls on fresh contexts after a warm-up call per selector (so one-off library
start-up is not timed). Memory is measured in the same calls: peak resident set during the call (VmHWM,
reset through /proc/self/clear_refs just before it, after malloc_trim) minus the resident set before it; the
largest of the 3 is printed. It sees torch's CPU tensors, which tracemalloc does not; on a GPU the column is
host memory only. Timings on a shared machine are noisy; ``--threads 1`` avoids thread contention there.
"""

import argparse
import contextlib
import ctypes
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from benchmark.config import Pairing
from benchmark.diagnostics import batch_diagnostics
from benchmark.paths import CONF_DIR
from benchmark.perf.memory import status_mb
from benchmark.pools import build_pool
from benchmark.selectors.base import SelectionContext, Selector
from benchmark.selectors.coreset import CoresetSelector, kmeans, lr_sensitivities

RESPONSES_PER_PROMPT = 10
LABELLED = 1000
RUNS = 3
#: Rows beyond one per YAML: (row name, YAML, parameter overrides, whether at the plan's large batch).
EXTRA_ROWS: list[tuple[str, str, dict, bool]] = [
    ("bald_ensemble", "bald", {"posterior": "ensemble"}, False),
    ("greedy_dopt", "greedy_dopt", {}, True),
]


@dataclass(frozen=True)
class Plan:
    """Sizes of one benchmark run."""

    size: tuple[int, int]  # (N, h) at which every selector is timed
    batch: int
    large_batch: int  # of the extra rows that say so
    dopt_sizes: list[tuple[int, int]]  # where dopt is compared with the autograd reference
    logdet_size: tuple[int, int]
    logdet_contexts: int


FULL = Plan((22500, 512), 125, 1000, [(5000, 256), (4500, 512)], (4500, 64), 3)
QUICK = Plan((600, 16), 10, 30, [(200, 8), (600, 16)], (200, 8), 2)


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


def yaml_names() -> list[str]:
    return sorted(path.stem for path in (CONF_DIR / "selector").glob("*.yaml"))


def build(yaml: str, overrides: dict | None = None) -> Selector:
    """The selector of ``conf/selector/<yaml>.yaml`` with its defaults (and ``overrides``)."""
    node = OmegaConf.load(CONF_DIR / "selector" / f"{yaml}.yaml")
    node.pop("name", None)
    return instantiate(node, **(overrides or {}))


def reference_dopt(context: SelectionContext, n: int) -> np.ndarray:
    """The authors' D-opt rule, step for step (see the module docstring)."""
    first, second = context.pool_index
    differences = context.features[first] - context.features[second]
    with torch.no_grad():
        variances = torch.sigmoid(differences @ context.head)
        variances = variances * (1 - variances)
    weights = torch.ones_like(variances, requires_grad=True)
    products = differences[:, None, :] * differences[:, :, None] * variances[:, None, None] * weights[:, None, None]
    information = products.sum(dim=0)
    del products
    (gradient,) = torch.autograd.grad(torch.logdet(information), weights)
    return torch.topk(gradient, n).indices.cpu().numpy()


def reference_bytes(pairs: int, width: int) -> int:
    """What the reference allocates at once (about three float32 N×h×h tensors), to skip sizes that cannot fit."""
    return 3 * pairs * width * width * 4


def reference_sensitivities(data: np.ndarray, centres: np.ndarray, assignments: np.ndarray,
                            radius: float) -> np.ndarray:
    """The authors' fast sensitivity: N / (1 − e^{−R d_own} + Σ_j e^{−R d_j + log size_j}), d from sklearn."""
    from sklearn.metrics.pairwise import euclidean_distances

    sizes = np.bincount(assignments, minlength=len(centres))
    with np.errstate(divide="ignore"):  # an empty cluster has log 0 = −inf, i.e. no term
        log_sizes = np.log(sizes)
    distances = radius * euclidean_distances(data, centres)
    own = np.exp(-distances[np.arange(len(data)), assignments])
    return len(data) / (1 - own + np.exp(-distances + log_sizes).sum(1))


def reference_coreset(context: SelectionContext, n: int, clusters: int = 10, radius: float = 1.0) -> np.ndarray:
    """The authors' coreset rule (see the module docstring): k_means, their sensitivity, draws with replacement."""
    from sklearn.cluster import k_means

    first, second = context.pool_index
    data = (context.features[first] - context.features[second]).cpu().numpy()
    centres, assignments, _ = k_means(data, clusters, n_init=1, max_iter=1,
                                      random_state=int(context.rng.integers(2**31 - 1)))
    sensitivity = reference_sensitivities(data, centres, assignments, radius)
    return context.rng.choice(len(data), size=n, p=sensitivity / sensitivity.sum())


def measured_call(select: Callable[[SelectionContext], np.ndarray], context: SelectionContext,
                  device: torch.device) -> tuple[np.ndarray, float, float]:
    """Rows, wall seconds and MiB of peak resident memory above the level before the call (NaN if unreadable).

    malloc_trim first hands freed heap pages back to the OS, so memory that earlier calls freed but malloc
    kept is not silently reused (which would hide it); then VmHWM is reset to the current resident set.
    """
    with contextlib.suppress(OSError, AttributeError):  # not glibc: freed heap pages may hide some memory
        ctypes.CDLL(None).malloc_trim(0)
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        before = status_mb("VmRSS")
    except OSError:
        before = math.nan
    start = time.perf_counter()
    rows = select(context)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    return rows, seconds, status_mb("VmHWM") - before


def measure(select: Callable[[SelectionContext], np.ndarray], make_context: Callable[[], SelectionContext],
            device: torch.device) -> tuple[np.ndarray, float, float]:
    """Rows of the last call, median seconds and largest peak MiB of ``RUNS`` calls, each on a fresh context."""
    calls = [measured_call(select, make_context(), device) for _ in range(RUNS)]
    return calls[-1][0], statistics.median(c[1] for c in calls), max(c[2] for c in calls)


def row(name: str, pairs: int, width: int, n: int, seconds: float, mib: float, note: str = "") -> str:
    return f"{name:<22}{pairs:>7}{width:>6}{n:>6}{seconds:>11.3f}{mib:>12.1f}  {note}".rstrip()


def header() -> str:
    return f"{'selector':<22}{'N':>7}{'h':>6}{'n':>6}{'seconds':>11}{'peak MiB':>12}"


def runs_for(plan: Plan, only: set[str] | None) -> list[tuple[str, str, dict, int]]:
    """(row name, YAML, overrides, n) of every selector row, restricted to ``only`` when given."""
    runs = [(name, name, {}, plan.batch) for name in yaml_names()]
    runs += [(name, yaml, overrides, plan.large_batch if large else plan.batch)
             for name, yaml, overrides, large in EXTRA_ROWS]
    return [r for r in runs if only is None or r[0] in only]


def selector_table(plan: Plan, runs: list[tuple[str, str, dict, int]], device: torch.device) -> None:
    """One row per selector at the plan's size."""
    pairs, width = plan.size
    print(header())
    for name, yaml, overrides, n in runs:
        selector = build(yaml, overrides)
        _, seconds, mib = measure(lambda c, s=selector, n=n: s.select(c, n),
                                  lambda: synthetic_context(pairs, width, 0, device), device)
        print(row(name, pairs, width, n, seconds, mib))


def dopt_speedups(plan: Plan, device: torch.device) -> list[str]:
    """dopt and the autograd reference at each comparison size; returns the speedup lines."""
    lines = []
    dopt = build("dopt")
    for pairs, width in plan.dopt_sizes:
        def make_context(pairs: int = pairs, width: int = width) -> SelectionContext:
            return synthetic_context(pairs, width, 0, device)

        ours, seconds, mib = measure(lambda c: dopt.select(c, plan.batch), make_context, device)
        print(row("dopt", pairs, width, plan.batch, seconds, mib))
        needed, available = reference_bytes(pairs, width), status_mb("MemAvailable") * 2**20
        if needed > available:
            print(row("reference dopt", pairs, width, plan.batch, math.nan, math.nan,
                      f"skipped: needs ~{needed / 2**30:.1f} GiB, {available / 2**30:.1f} GiB available"))
            lines.append(f"dopt speedup vs autograd reference (N={pairs}, h={width}): not measured (too large here)")
            continue
        picked, reference, mib = measure(lambda c: reference_dopt(c, plan.batch), make_context, device)
        overlap = len(set(picked.tolist()) & set(ours.tolist())) / plan.batch
        print(row("reference dopt", pairs, width, plan.batch, reference, mib, f"same picks as dopt: {overlap:.0%}"))
        lines.append(f"dopt speedup vs autograd reference (N={pairs}, h={width}): {reference / seconds:.0f}×")
    return lines


def coreset_speedup(plan: Plan, device: torch.device) -> str:
    """coreset and the authors' rule at the plan's size, and their sensitivities given the same centres."""
    pairs, width = plan.size

    def make_context() -> SelectionContext:
        return synthetic_context(pairs, width, 0, device)

    selector = build("coreset")
    assert isinstance(selector, CoresetSelector)
    _, seconds, mib = measure(lambda c: selector.select(c, plan.batch), make_context, device)
    print(row("coreset", pairs, width, plan.batch, seconds, mib))
    _, reference, mib = measure(lambda c: reference_coreset(c, plan.batch, selector.clusters, selector.radius),
                                make_context, device)
    print(row("reference coreset", pairs, width, plan.batch, reference, mib))
    context = make_context()
    first, second = context.pool_index
    data = context.features[first] - context.features[second]
    centres, assignments = kmeans(data, selector.clusters, context.rng)
    ours = lr_sensitivities(data, centres, assignments, selector.radius).cpu().numpy()
    theirs = reference_sensitivities(data.cpu().numpy(), centres.cpu().numpy(), assignments.cpu().numpy(),
                                     selector.radius)
    print(f"coreset sensitivities given the same centres: max relative difference {np.max(abs(ours / theirs - 1)):.1e}")
    return f"coreset speedup vs reference (N={pairs}, h={width}): {reference / seconds:.1f}×"


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


def warm_up(runs: list[tuple[str, str, dict, int]], device: torch.device) -> None:
    """One tiny call of every selector and reference, so one-off library start-up is not timed."""
    pairs, width = QUICK.dopt_sizes[0]
    for _, yaml, overrides, _ in runs:
        build(yaml, overrides).select(synthetic_context(pairs, width, 0, device), QUICK.batch)
    reference_dopt(synthetic_context(pairs, width, 0, device), QUICK.batch)
    reference_coreset(synthetic_context(pairs, width, 0, device), QUICK.batch)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmark.perf selectors", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (seconds), for a smoke test")
    parser.add_argument("--only", type=lambda text: set(text.split(",")), default=None,
                        help="comma-separated rows to time (YAML names, bald_ensemble); skips the references")
    parser.add_argument("--device", default="cpu", help="torch device of the synthetic features (default cpu)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's); 1 avoids thread contention on a busy machine")
    options = parser.parse_args(argv)
    plan = QUICK if options.quick else FULL
    device = torch.device(options.device)
    if options.threads is not None:
        torch.set_num_threads(options.threads)
    runs = runs_for(plan, options.only)
    unknown = (options.only or set()) - {name for name, *_ in runs}
    if unknown:
        parser.error(f"--only: no row named {', '.join(sorted(unknown))}; "
                     f"rows: {', '.join(sorted({name for name, *_ in runs_for(plan, None)}))}")
    print(f"device {device}, {torch.get_num_threads()} torch CPU threads; median of {RUNS} calls each")
    warm_up(runs, device)
    selector_table(plan, runs, device)
    if options.only is not None:
        return
    print()
    print(header())
    lines = dopt_speedups(plan, device)
    lines.append(coreset_speedup(plan, device))
    logdet_comparison(plan, device)
    print("\n".join(lines))
