"""BAL-PM's greedy picks against a plain loop over its definition (BALD + beta x k-NN prompt-entropy term)."""

import numpy as np
import pytest
from scipy.special import digamma, expit, rel_entr

from benchmark.pairings import CROSS_PROMPT, IN_PROMPT
from benchmark.selectors import BALDSelector
from benchmark.selectors.base import top_n
from benchmark.selectors.posterior import LaplacePosterior
from tests.test_selectors_epig import check_contract, explicit_differences
from tests.test_selectors_properties import K, build, random_context


def reference_picks(context, heads, n, beta, neighbours, dimension) -> list[int]:
    """Greedy BAL-PM with dictionaries and loops: prompt features, radii and counts recomputed at every step."""
    p = expit(explicit_differences(context) @ heads.T)
    mean = p.mean(1, keepdims=True)
    information = (rel_entr(p, mean) + rel_entr(1 - p, 1 - mean)).mean(1)
    phi = context.features.double().numpy()
    prompt_of = context.pool.prompt_of_response
    feature = {q: phi[prompt_of == q].mean(0) for q in np.unique(prompt_of)}
    pool_prompts = list(feature)
    acquired = []
    for a, b in context.labelled_pairs:
        for q in {a // K, b // K}:
            if q not in feature:
                feature[q] = context.featurize(q * K + np.arange(K)).double().numpy().mean(0)
            acquired.append(q)

    def distance(q, r):
        return np.linalg.norm(feature[q] - feature[r])

    radius = {}
    for q in pool_prompts:
        others = sorted(distance(q, r) for r in pool_prompts if r != q)
        radius[q] = others[min(neighbours, len(others)) - 1]
    picks = []
    for _ in range(n):
        best, best_score = None, -np.inf
        for row, (a, b) in enumerate(zip(context.pool.first, context.pool.second, strict=True)):
            if row in picks:
                continue
            prompts = {prompt_of[a], prompt_of[b]}
            terms = []
            for q in prompts:
                inside = sum(distance(q, r) <= radius[q] for r in acquired)
                terms.append(np.log(2 * radius[q] + 1e-4) - digamma(inside + 1) / dimension)
            score = information[row] + beta * np.mean(terms)
            if score > best_score:
                best, best_score = row, score
        picks.append(best)
        acquired.extend({prompt_of[context.pool.first[best]], prompt_of[context.pool.second[best]]})
    return picks


def test_bal_pm_meets_the_selector_contract():
    check_contract("bal_pm", implicit_ok=False)


@pytest.mark.parametrize("pairing", [IN_PROMPT, CROSS_PROMPT])
@pytest.mark.parametrize(("beta", "neighbours", "dimension"), [(0.01, 13, 1.0), (0.5, 2, 3.0), (5.0, 3, 1.0)])
def test_bal_pm_picks_follow_the_definition(pairing, beta, neighbours, dimension):
    context, _ = random_context(7, pairing)
    selector = build("bal_pm", LaplacePosterior(samples=16), beta=beta, neighbours=neighbours, dimension=dimension)
    context.rng = np.random.default_rng(1)
    ours = selector.select(context, 12)
    context.rng = np.random.default_rng(1)
    heads = selector.posterior.sample(context).numpy()
    assert list(ours) == reference_picks(context, heads, 12, beta, neighbours, dimension)


def test_without_the_bonus_it_is_bald_top_n():
    context, _ = random_context(3, CROSS_PROMPT)
    context.rng = np.random.default_rng(2)
    ours = build("bal_pm", beta=0.0).select(context, 15)
    context.rng = np.random.default_rng(2)
    np.testing.assert_array_equal(ours, top_n(BALDSelector().scores(context), 15))

