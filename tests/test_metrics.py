"""Metrics against independent computations: scipy's ranks, Spearman and Kendall τ-b, brute-force Best-of-N; the
metric registry read by every consumer."""

import numpy as np
import pytest
from scipy.stats import kendalltau, rankdata, spearmanr

from benchmark import metrics
from benchmark.metrics import (
    METRICS,
    Draws,
    Predictions,
    average_ranks,
    best_of_n,
    kendall_per_prompt,
    pairwise_accuracy,
    spearman_per_prompt,
)


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


@pytest.mark.parametrize(("shape", "levels"), [((30, 12), 4), ((5, 60), 1000), ((8, 2), 3), ((6, 33), 2)])
def test_kendall_tau_b_matches_scipy_with_ties(shape, levels):
    rng = np.random.default_rng(levels)
    predicted = rng.integers(0, levels, size=shape).astype(float)
    golden = rng.integers(0, levels + 1, size=shape).astype(float)
    golden[:, :2] = [0.0, 1.0]  # no constant golden row: scipy's τ is defined for every prompt
    predicted[:, :2] = [0.0, 1.0]
    expected = np.mean([kendalltau(p, g).statistic for p, g in zip(predicted, golden, strict=True)])
    assert kendall_per_prompt(predicted, golden) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_kendall_skips_constant_golden_and_scores_constant_predictions_zero():
    golden = np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0], [3.0, 1.0, 2.0]])
    predicted = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [7.0, 7.0, 7.0]])
    assert kendall_per_prompt(predicted, golden) == pytest.approx((1.0 + 0.0) / 2)
    assert np.isnan(kendall_per_prompt(predicted[1:2], golden[1:2]))


def test_registry_keys_are_the_keys_the_evaluation_writes():
    rng = np.random.default_rng(3)
    golden, predicted = rng.normal(size=(6, 8)), rng.normal(size=(6, 8))
    record = metrics.evaluate(Predictions(predicted, golden, Draws(0, 6, 8, 2, 4), [3, 8]))
    for key in record:
        assert metrics.metric(key) is not None, f"{key} is written but not registered"
    computed = [m for m in METRICS if m.compute is not None]
    expected = {"spearman", "kendall_tau", "test_accuracy", "bo4_accuracy", "pair_nll", "bon/{n}"}
    assert expected == {m.key for m in computed}
    assert metrics.metric("bon/8").key == "bon/8" and metrics.metric("bon/8").label == "best-of-8 golden reward"
    assert metrics.metric("bon_oracle/8").lower_is_better is None and metrics.metric("nope") is None


def test_a_metric_s_own_stream_leaves_the_existing_draws_alone():
    base = Draws(5, 4, 6, 3, 2)
    again = Draws(5, 4, 6, 3, 2)
    again.stream("bo4_accuracy").random(100)  # another metric drawing from its stream
    np.testing.assert_array_equal(base.subsets, again.subsets)
    assert base.stream("x").random() == again.stream("x").random() != base.stream("y").random()
