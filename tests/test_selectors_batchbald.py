"""BatchBALD against exact joint mutual information by enumerating every label configuration."""

from itertools import product

import numpy as np
import pytest
import torch
from scipy.special import expit

from benchmark.selectors import BALDSelector, BatchBALDSelector
from benchmark.selectors.batchbald import Configurations, greedy_joint_information
from benchmark.selectors.posterior import LaplacePosterior
from tests.test_dopt import make_context


def exact_joint_entropy(p, batch):
    """H(y_batch) with θ uniform over the rows of ``p`` (S × N), summing over all 2^|batch| labelings."""
    total = 0.0
    for labels in product([0, 1], repeat=len(batch)):
        likelihood = np.prod([p[:, k] if y else 1 - p[:, k] for k, y in zip(batch, labels, strict=True)], axis=0)
        mass = likelihood.mean()
        total -= mass * np.log(mass) if mass > 0 else 0.0
    return total


def exact_joint_information(p, batch):
    conditional = -(p * np.log(p) + (1 - p) * np.log(1 - p)).mean(0)
    return exact_joint_entropy(p, batch) - conditional[list(batch)].sum()


def brute_force_greedy(p, n):
    picks, values = [], []
    for _ in range(n):
        candidates = [k for k in range(p.shape[1]) if k not in picks]
        scores = [exact_joint_information(p, [*picks, k]) for k in candidates]
        picks.append(candidates[int(np.argmax(scores))])
        values.append(max(scores))
    return np.array(picks), np.array(values)


@pytest.mark.parametrize("block", [2, 256])  # 2: the lazy bounds decide which pairs are evaluated
@pytest.mark.parametrize("seed", range(3))
def test_greedy_equals_exact_enumeration_for_small_batches(seed, block):
    rng = np.random.default_rng(seed)
    p = expit(rng.normal(size=(6, 15)) * 2)
    rows, information = greedy_joint_information(torch.as_tensor(p), 3, 8, np.random.default_rng(0), block)
    expected_rows, expected = brute_force_greedy(p, 3)
    np.testing.assert_array_equal(rows, expected_rows)
    np.testing.assert_allclose(information.numpy(), expected, rtol=1e-10)


def test_selector_uses_the_posterior_samples_and_starts_with_the_bald_pick():
    context = make_context(n_responses=14, h=4, n_pairs=40, n_labelled=6, seed=1)
    selector = BatchBALDSelector(LaplacePosterior(samples=16), configurations=8)
    context.rng = np.random.default_rng(3)
    rows, information = selector.design(context, 3)
    context.rng = np.random.default_rng(3)
    heads = selector.posterior.sample(context).double().numpy()
    phi = context.features.double().numpy()
    p = expit((phi[context.pool.first] - phi[context.pool.second]) @ heads.T).T
    expected_rows, expected = brute_force_greedy(p, 3)
    np.testing.assert_array_equal(rows, expected_rows)
    np.testing.assert_allclose(information.numpy(), expected, rtol=1e-9)
    context.rng = np.random.default_rng(3)
    assert rows[0] == BALDSelector(LaplacePosterior(samples=16)).select(context, 1)[0]


def test_sampled_configurations_estimate_the_joint_entropy():
    rng = np.random.default_rng(5)
    p = expit(rng.normal(size=(8, 12)) * 2)
    picked = [0, 3, 5, 7, 9]
    state = Configurations.draw(torch.as_tensor(p[:, picked]), 20_000, np.random.default_rng(1))
    estimate = (state.entropy() + state.conditional_entropy(torch.as_tensor(p))).numpy()
    exact = np.array([exact_joint_entropy(p, [*picked, k]) for k in range(12)])
    np.testing.assert_allclose(estimate, exact, atol=0.03)


def test_long_batches_stay_finite_with_certain_labels():
    rng = np.random.default_rng(2)
    p = expit(rng.normal(size=(8, 300)) * 40)  # many probabilities round to exactly 0 or 1
    rows, information = greedy_joint_information(torch.as_tensor(p), 60, 16, np.random.default_rng(0))
    assert len(set(rows)) == 60 and torch.isfinite(information).all()
    assert information[-1] > information[0]


def test_lazy_evaluation_picks_what_full_evaluation_picks():
    rng = np.random.default_rng(4)
    p = torch.as_tensor(expit(rng.normal(size=(10, 80)) * 2))
    lazy, lazy_information = greedy_joint_information(p, 8, 256, np.random.default_rng(0), block=3)
    full, full_information = greedy_joint_information(p, 8, 256, np.random.default_rng(0), block=80)
    np.testing.assert_array_equal(lazy, full)
    torch.testing.assert_close(lazy_information, full_information, rtol=1e-12, atol=0)
