"""Metrics against independent computations: scipy's ranks and Spearman, brute-force Best-of-N."""

import numpy as np
import pytest
from scipy.stats import rankdata, spearmanr

from benchmark.metrics import average_ranks, best_of_n, pairwise_accuracy, spearman_per_prompt


@pytest.mark.parametrize(("shape", "levels"), [((30, 12), 3), ((4, 500), 1000), ((6, 1), 2), ((5, 7), 1)])
def test_average_ranks_match_scipy(shape, levels):
    values = np.random.default_rng(levels).integers(0, levels, size=shape).astype(float)  # levels=1: all tied
    np.testing.assert_array_equal(average_ranks(values), rankdata(values, axis=1))


def test_spearman_matches_scipy_with_ties():
    rng = np.random.default_rng(0)
    predicted = rng.integers(0, 4, size=(30, 12)).astype(float)  # many ties
    golden = rng.integers(0, 5, size=(30, 12)).astype(float)
    expected = np.mean([spearmanr(p, g).statistic for p, g in zip(predicted, golden, strict=True)])
    value, skipped = spearman_per_prompt(predicted, golden)
    assert skipped == 0
    assert value == pytest.approx(expected, abs=1e-12)


def test_spearman_skips_constant_golden_and_scores_constant_predictions_zero():
    golden = np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0], [3.0, 1.0, 2.0]])
    predicted = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [7.0, 7.0, 7.0]])
    value, skipped = spearman_per_prompt(predicted, golden)
    assert skipped == 1
    assert value == pytest.approx((1.0 + 0.0) / 2)


def test_best_of_n_matches_brute_force():
    rng = np.random.default_rng(1)
    predicted, golden = rng.normal(size=(7, 9)), rng.normal(size=(7, 9))
    subsets = np.stack([rng.permutation(9) for _ in range(7 * 3)]).reshape(3, 7, 9)
    result = best_of_n(predicted, golden, subsets, [1, 4, 9])
    for n in (1, 4, 9):
        chosen, oracle, random = [], [], []
        for repeat in range(3):
            for prompt in range(7):
                subset = subsets[repeat, prompt, :n]
                best = subset[np.argmax(predicted[prompt, subset])]
                chosen.append(golden[prompt, best])
                oracle.append(golden[prompt, subset].max())
                random.append(golden[prompt, subset].mean())
        assert result[f"bon/{n}"] == pytest.approx(np.mean(chosen))
        assert result[f"bon_oracle/{n}"] == pytest.approx(np.mean(oracle))
        assert result[f"bon_random/{n}"] == pytest.approx(np.mean(random))
    assert result["bon/9"] == pytest.approx(np.mean(golden[np.arange(7), predicted.argmax(1)]))


def test_pairwise_accuracy_counts_ties_half():
    golden = np.array([[0.0, 1.0, 2.0]])
    predicted = np.array([[0.0, 0.0, 5.0]])
    pairs = np.array([[[0, 1], [1, 2], [2, 0]]])
    assert pairwise_accuracy(predicted, golden, pairs) == pytest.approx((0.5 + 1 + 1) / 3)
