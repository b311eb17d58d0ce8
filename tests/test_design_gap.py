"""The design-gap check (benchmark.design_gap): every batch's gain against a direct log det, and fractions that
are exactly 1 where the optimum is known to be reached."""

import itertools

import numpy as np
import pytest

from benchmark import design_gap
from benchmark.pairings import CROSS_PROMPT, IN_PROMPT


def direct_gain(context, subset) -> float:
    """log det(λI + F_labelled + Σ_subset w vvᵀ) − log det(λI + F_labelled), by numpy loops over pairs."""
    phi, head = context.features.double().numpy(), context.head.double().numpy()
    table = {int(i): context.featurize(np.array([i]))[0].double().numpy() for i in np.unique(context.labelled_pairs)}
    start = np.eye(len(head))
    for a, b in context.labelled_pairs:
        v = table[int(a)] - table[int(b)]
        p = 1 / (1 + np.exp(-v @ head))
        start += p * (1 - p) * np.outer(v, v)
    design = start.copy()
    for k in subset:
        v = phi[context.pool.first[k]] - phi[context.pool.second[k]]
        p = 1 / (1 + np.exp(-v @ head))
        design += p * (1 - p) * np.outer(v, v)
    return np.linalg.slogdet(design)[1] - np.linalg.slogdet(start)[1]


@pytest.mark.parametrize("pairing", [IN_PROMPT, CROSS_PROMPT])
def test_every_batch_gain_is_the_log_det_gain_over_the_labelled_design(pairing):
    context = design_gap.random_round(3, pairing)
    assert len(context.pool) == {IN_PROMPT: 24, CROSS_PROMPT: 21}[pairing]
    subsets, gains = design_gap.batch_gains(context, 3)
    assert len(subsets) == len(list(itertools.combinations(range(len(context.pool)), 3)))
    for index in np.random.default_rng(0).choice(len(subsets), size=15, replace=False):
        # rel 1e-6: the context's labelled v are float32 differences, the direct ones float64
        assert gains[index] == pytest.approx(direct_gain(context, subsets[index]), rel=1e-6)


def test_fractions_are_at_most_one_and_random_is_the_mean_batch():
    context = design_gap.random_round(1, IN_PROMPT)
    _, gains = design_gap.batch_gains(context, 2)
    out = design_gap.fractions(context, 2)
    assert out["random"] == pytest.approx(gains.mean() / gains.max())
    assert all(0 < value <= 1 + 1e-12 for value in out.values())


def test_greedy_on_the_criterion_itself_is_exact_for_one_pair():
    # With n = 1 the greedy pick is the best single pair, so its fraction is 1 on every pool.
    for seed in range(4):
        out = design_gap.fractions(design_gap.random_round(seed, CROSS_PROMPT), 1)
        assert out["greedy_dopt past_aware=true eps=1"] == pytest.approx(1.0)


def test_the_command_prints_one_table_per_setup(capsys):
    design_gap.main(["--pools", "2", "--batch", "2"])
    text = capsys.readouterr().out
    assert text.count("| selector | mean |") == 2 and "`dopt`" in text and "`random`" in text
