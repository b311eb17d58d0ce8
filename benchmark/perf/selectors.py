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
* EPIG (Bickford Smith et al.'s ``epig_from_probs_using_matmul``, their fastest form): on the same posterior
  samples and target pairs as ``epig`` (the same draws), probabilities laid out as [N, K, 2], the joint of all
  2 × 2 label cells as one [N, 2, K] @ [K, 2T] matmul per block of pool pairs (``epig``'s block size), its
  entropy with ``xlogy``, plus the two marginal entropies; float64 like ``epig``.
* BADGE (Ash et al.'s ``init_centers`` after ``get_grad_embedding``) on the same gradient embeddings
  g = (p − ŷ)·v: their float64 embedding array filled a loader batch at a time, then k-means++ seeding with
  scikit-learn ``pairwise_distances`` to the newest centre, a loop over the pool keeping the nearest, and
  scipy ``rv_discrete`` over D², redrawn while the draw is already a centre. Its memory includes building
  the embeddings, as ``badge``'s does.

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

from benchmark.diagnostics import batch_diagnostics
from benchmark.pairings import IN_PROMPT
from benchmark.paths import CONF_DIR
from benchmark.perf.memory import status_mb
from benchmark.pools import build_pool
from benchmark.selectors.base import SelectionContext, Selector
from benchmark.selectors.coreset import CoresetSelector, kmeans, lr_sensitivities
from benchmark.selectors.epig import CHUNK as EPIG_CHUNK
from benchmark.selectors.epig import EPIGSelector
from benchmark.selectors.posterior import EnsemblePosterior
from benchmark.selectors.ranking import top_n

RESPONSES_PER_PROMPT = 10
LABELLED = 1000
RUNS = 3
#: Rows per batch of the BADGE reference's embedding loop (the authors' test loader's batch size).
BADGE_LOADER_BATCH = 1000
#: Rows beyond one per YAML: (row name, YAML, parameter overrides, whether at the plan's large batch).
EXTRA_ROWS: list[tuple[str, str, dict, bool]] = [
    ("bald_ensemble", "bald", {"posterior": EnsemblePosterior()}, False),
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
    pool = build_pool(np.arange(prompts), k, IN_PROMPT, pairs, np.zeros(0, np.int64), table_size, rng)
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


def reference_epig(context: SelectionContext, n: int, selector: EPIGSelector) -> np.ndarray:
    """The authors' EPIG scoring (``epig_from_probs_using_matmul``) on our posterior samples and target pairs."""
    pool, targets = selector.probabilities(context)  # S × N and S × M, the same draws as epig's
    probs_pool = torch.stack([pool.T, 1 - pool.T], dim=-1)  # their layout [N_p, K, Cl]
    probs_targ = torch.stack([targets.T, 1 - targets.T], dim=-1)  # [N_t, K, Cl]
    scores = torch.cat([authors_epig(block, probs_targ) for block in probs_pool.split(EPIG_CHUNK)])
    return top_n(scores, n)


def marginal_entropy(probs: torch.Tensor) -> torch.Tensor:
    """H of the K-sample mean prediction of each row of [N, K, Cl] probabilities."""
    mean = probs.mean(dim=1)
    return -torch.xlogy(mean, mean).sum(dim=-1)


def authors_epig(probs_pool: torch.Tensor, probs_targ: torch.Tensor) -> torch.Tensor:
    """H[y] + mean_t H[y_t] − mean_t H[y, y_t], the joint of all Cl × Cl cells as one matmul over the K samples."""
    targets, samples, classes = probs_targ.shape
    joint = probs_pool.permute(0, 2, 1) @ probs_targ.permute(1, 0, 2).reshape(samples, targets * classes) / samples
    joint_entropy = -torch.xlogy(joint, joint).sum(dim=(-2, -1)) / targets
    return marginal_entropy(probs_pool) + marginal_entropy(probs_targ).mean() - joint_entropy


def reference_badge(context: SelectionContext, n: int) -> np.ndarray:
    """The authors' BADGE on the same gradient embeddings (see the module docstring)."""
    from scipy import stats
    from sklearn.metrics import pairwise_distances

    first, second = context.pool_index
    p = torch.sigmoid(context.reward_differences)
    weight = p - (p >= 0.5).to(p.dtype)
    embedding = np.zeros((len(first), context.features.shape[1]))  # their get_grad_embedding: float64, by batch
    for start in range(0, len(first), BADGE_LOADER_BATCH):
        rows = slice(start, start + BADGE_LOADER_BATCH)
        v = context.features[first[rows]] - context.features[second[rows]]
        embedding[rows] = (v * weight[rows, None]).cpu().numpy()
    picks = [int(np.argmax([np.linalg.norm(x, 2) for x in embedding]))]
    centres = [embedding[picks[0]]]
    nearest = pairwise_distances(embedding, centres).ravel().astype(float)
    while len(picks) < n:
        if len(centres) > 1:
            newest = pairwise_distances(embedding, [centres[-1]]).ravel().astype(float)
            for i in range(len(embedding)):
                nearest[i] = min(nearest[i], newest[i])
        squared = nearest**2
        draw = stats.rv_discrete(name="custm", values=(np.arange(len(squared)), squared / squared.sum()))
        index = int(draw.rvs(size=1, random_state=context.rng)[0])
        while index in picks:
            index = int(draw.rvs(size=1, random_state=context.rng)[0])
        centres.append(embedding[index])
        picks.append(index)
    return np.array(picks)


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


def epig_and_badge(plan: Plan, device: torch.device) -> list[str]:
    """epig and badge beside the authors' rules at the plan's size; returns the speed-up and memory lines."""
    pairs, width = plan.size

    def make_context() -> SelectionContext:
        return synthetic_context(pairs, width, 0, device)

    epig = build("epig")
    assert isinstance(epig, EPIGSelector)
    ours, seconds, _ = measure(lambda c: epig.select(c, plan.batch), make_context, device)
    print(row("epig", pairs, width, plan.batch, seconds, math.nan))
    theirs, reference, _ = measure(lambda c: reference_epig(c, plan.batch, epig), make_context, device)
    overlap = len(set(ours.tolist()) & set(theirs.tolist())) / plan.batch
    print(row("reference epig", pairs, width, plan.batch, reference, math.nan, f"same picks as epig: {overlap:.0%}"))
    badge = build("badge")
    _, badge_seconds, badge_mib = measure(lambda c: badge.select(c, plan.batch), make_context, device)
    print(row("badge", pairs, width, plan.batch, badge_seconds, badge_mib))
    _, badge_reference, reference_mib = measure(lambda c: reference_badge(c, plan.batch), make_context, device)
    print(row("reference badge", pairs, width, plan.batch, badge_reference, reference_mib))
    return [f"epig speedup vs reference (N={pairs}, h={width}): {reference / seconds:.1f}×",
            f"badge peak memory vs reference (N={pairs}, h={width}): {badge_mib / reference_mib:.2f}× "
            f"({badge_mib:.0f} vs {reference_mib:.0f} MiB), time {badge_reference / badge_seconds:.1f}× faster"]


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
    reference_epig(synthetic_context(pairs, width, 0, device), QUICK.batch, build("epig"))
    reference_badge(synthetic_context(pairs, width, 0, device), QUICK.batch)


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
    lines += epig_and_badge(plan, device)
    logdet_comparison(plan, device)
    print("\n".join(lines))
