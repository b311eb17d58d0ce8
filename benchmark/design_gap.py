"""How far batch selectors fall from the exact batch D-optimal design: ``python -m benchmark.design_gap``.

The paper's D-opt scores each pool pair by the gradient of log det at the whole pool and takes the top n, a
linearisation of the batch design problem; it leaves open how close that comes to the best batch. On pools
small enough to enumerate every batch (N ≤ 24 pairs, n ≤ 4: at most C(24, 4) = 10,626 batches) the exact
optimum is found by brute force, and each selector's batch is scored against it.

Criterion: the run's own D-optimality diagnostic (``fisher_logdet``): the gain of batch B is
log det(M₀ + Σ_B w vvᵀ) − log det M₀ with M₀ = λI + the labelled pairs' Fisher, w = p(1−p). By the matrix
determinant lemma that is log det(I + G_BB), G = W^½ V M₀⁻¹ Vᵀ W^½ the pool's N × N whitened Gram, so every
batch costs one n × n determinant. Each selector runs from its own YAML (its defaults) on a random round; its
fraction is gain(B) / gain(B*). ``random`` is given its exact expectation: the mean gain over all batches.
"""

import argparse
import functools
import itertools
import math

import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from benchmark.pairings import CROSS_PROMPT, IN_PROMPT, Pairing
from benchmark.paths import CONF_DIR
from benchmark.pools import CandidatePool, build_pool
from benchmark.selectors.base import SelectionContext
from benchmark.selectors.fisher import PRIOR_PRECISION, bernoulli_variance, laplace_precision

#: Selectors compared: (row name, YAML, parameter overrides). The last is greedy design on this very criterion
#: (M₀ = λI + labelled Fisher), for which greedy is within (1 − 1/e) of the optimum (submodularity).
SELECTORS: list[tuple[str, str, dict]] = [
    ("dopt", "dopt", {}),
    ("pastaware_dopt", "pastaware_dopt", {}),
    ("greedy_dopt", "greedy_dopt", {}),
    ("greedy_dopt past_aware=true eps=1", "greedy_dopt", {"past_aware": True, "eps": PRIOR_PRECISION}),
]
#: Responses per prompt; in-prompt pools hold all pairs of 4 prompts (24 pairs), cross-prompt pools all pairs
#: among one response of each of 7 prompts (21 pairs).
K = 4
PROMPTS = {IN_PROMPT: 4, CROSS_PROMPT: 7}
WIDTH = 8
LABELLED = 12
QUANTILES = (0.05, 0.25, 0.5)


def random_round(seed: int, pairing: Pairing) -> SelectionContext:
    """A small round: GELU features of width ``WIDTH``, a random head, ``LABELLED`` pairs labelled elsewhere."""
    rng = np.random.default_rng(seed)
    prompts = PROMPTS[pairing]
    total = (prompts + 4) * K  # 4 more prompts hold the labelled pairs
    table = torch.nn.functional.gelu(torch.as_tensor(rng.standard_normal((total, WIDTH)), dtype=torch.float32))
    if pairing is IN_PROMPT:
        pool = build_pool(np.arange(prompts), K, pairing, None, np.zeros(0, np.int64), total, rng)
    else:
        responses = np.arange(prompts) * K + rng.integers(K, size=prompts)
        first, second = np.triu_indices(prompts, 1)
        pool = CandidatePool(responses, first.astype(np.int64), second.astype(np.int64), K)
    labelled = prompts * K + rng.choice(4 * K, size=(LABELLED, 2))
    labelled = labelled[labelled[:, 0] != labelled[:, 1]]
    return SelectionContext(
        pool=pool, features=table[torch.as_tensor(pool.response_ids)],
        head=torch.as_tensor(rng.normal(scale=2 / math.sqrt(WIDTH), size=WIDTH), dtype=torch.float32),
        labelled_pairs=labelled, labels=(rng.random(len(labelled)) < 0.5).astype(np.int8),
        featurize=lambda ids: table[torch.as_tensor(ids)], rng=np.random.default_rng(seed + 1),
    )


def batch_gains(context: SelectionContext, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every n-subset of the pool (C(N, n) × n rows) and its log-det gain over M₀."""
    features = context.features.double()
    first, second = (torch.as_tensor(index) for index in (context.pool.first, context.pool.second))
    differences = features[first] - features[second]
    weights = bernoulli_variance(differences @ context.head.double())
    start = laplace_precision(context.labelled_information, PRIOR_PRECISION)
    scaled = differences * weights.sqrt()[:, None]
    gram = scaled @ torch.linalg.solve(start, scaled.T)
    subsets = all_subsets(len(first), n)
    index = torch.as_tensor(subsets)
    blocks = gram[index[:, :, None], index[:, None, :]] + torch.eye(n, dtype=torch.float64)
    return subsets, torch.linalg.slogdet(blocks)[1].numpy()


@functools.cache
def all_subsets(pairs: int, n: int) -> np.ndarray:
    """Every n-subset of range(pairs), lexicographic (C(pairs, n) × n)."""
    return np.array(list(itertools.combinations(range(pairs), n)), dtype=np.int64)


def fractions(context: SelectionContext, n: int) -> dict[str, float]:
    """Each selector's gain as a fraction of the exact optimum; ``random``: the mean over all batches."""
    subsets, gains = batch_gains(context, n)
    best = gains.max()
    out = {}
    for row, yaml, overrides in SELECTORS:
        node = OmegaConf.load(CONF_DIR / "selector" / f"{yaml}.yaml")
        node.pop("name", None)
        picked = np.sort(instantiate(node, **overrides).select(context, n))
        out[row] = gains[np.flatnonzero((subsets == picked).all(1))[0]] / best
    out["random"] = gains.mean() / best
    return out


def gap_table(pools: int, n: int, seed: int = 0) -> dict[Pairing, dict[str, np.ndarray]]:
    """Fractions of the optimum over ``pools`` random rounds per setup, by selector."""
    tables = {}
    for pairing in (IN_PROMPT, CROSS_PROMPT):
        rows = [fractions(random_round(seed + i, pairing), n) for i in range(pools)]
        tables[pairing] = {name: np.array([row[name] for row in rows]) for name in rows[0]}
    return tables


def markdown(tables: dict[Pairing, dict[str, np.ndarray]], n: int) -> str:
    """One table per setup: mean, quantiles, worst, and how often the exact optimum itself was picked."""
    lines = []
    for pairing, table in tables.items():
        pools, pairs = len(next(iter(table.values()))), len(random_round(0, pairing).pool)
        lines += [
            f"**{pairing.name}**: {pools} random pools of {pairs} pairs, batch {n}, all "
            f"{math.comb(pairs, n):,} batches of each enumerated.",
            "",
            "| selector | mean | 5% | 25% | median | worst | picks the optimum |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, values in table.items():
            quantiles = " | ".join(f"{q:.3f}" for q in np.quantile(values, QUANTILES))
            optimal = "—" if name == "random" else f"{np.mean(values >= 1 - 1e-9):.0%}"
            lines.append(f"| `{name}` | {values.mean():.3f} | {quantiles} | {values.min():.3f} | {optimal} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pools", type=int, default=200, help="random pools per setup")
    parser.add_argument("--batch", type=int, default=4, help="batch size n (C(N, n) batches are enumerated)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(markdown(gap_table(args.pools, args.batch, args.seed), args.batch))


if __name__ == "__main__":
    main()
