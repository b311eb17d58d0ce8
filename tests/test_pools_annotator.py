"""Candidate pools (sizes, no duplicates, exclusions) and the annotator's label frequencies."""

import numpy as np
import pytest
from scipy.special import comb, expit

from benchmark.annotator import BradleyTerryAnnotator
from benchmark.errors import UserError
from benchmark.pairings import CROSS_PROMPT, IN_PROMPT
from benchmark.pools import build_pool, pair_keys


@pytest.mark.parametrize(
    ("pairing", "expected"), [(IN_PROMPT, 6 * comb(5, 2)), (CROSS_PROMPT, comb(30, 2))]
)
def test_full_pool_sizes_and_uniqueness(pairing, expected):
    prompts = np.array([1, 4, 7, 8, 10, 11])
    pool = build_pool(prompts, 5, pairing, None, np.zeros(0, np.int64), 60, np.random.default_rng(0))
    assert len(pool) == expected
    pairs = pool.global_pairs(np.arange(len(pool)))
    assert np.all(pairs[:, 0] < pairs[:, 1])
    assert len(np.unique(pair_keys(pairs[:, 0], pairs[:, 1], 60))) == len(pool)
    prompt_of = pairs // 5
    assert set(np.unique(prompt_of)) <= set(prompts)
    if pairing is IN_PROMPT:
        assert np.all(prompt_of[:, 0] == prompt_of[:, 1])
    else:
        assert np.any(prompt_of[:, 0] != prompt_of[:, 1])


@pytest.mark.parametrize("pairing", [IN_PROMPT, CROSS_PROMPT])
def test_capped_pool_excludes_labelled_pairs(pairing):
    prompts = np.arange(4)
    full = build_pool(prompts, 5, pairing, None, np.zeros(0, np.int64), 20, np.random.default_rng(0))
    labelled = full.global_pairs(np.arange(0, len(full), 2))
    keys = np.sort(pair_keys(labelled[:, 0], labelled[:, 1], 20))
    capped = build_pool(prompts, 5, pairing, 7, keys, 20, np.random.default_rng(1))
    pairs = capped.global_pairs(np.arange(len(capped)))
    assert len(capped) == 7
    assert not np.isin(pair_keys(pairs[:, 0], pairs[:, 1], 20), keys).any()


def test_annotator_frequencies_follow_bradley_terry():
    annotator = BradleyTerryAnnotator(beta=2.0, scale=1.5, seed=3)
    n = 40_000
    pairs = np.stack([np.arange(n), np.arange(n) + n], axis=1)
    for difference in (-1.0, 0.0, 0.7, 2.0):
        labels = annotator.label(pairs, np.full(n, difference), np.zeros(n), np.zeros(n, np.int64))
        assert labels.mean() == pytest.approx(expit(2.0 * difference / 1.5), abs=0.01)


def test_noiseless_annotator_and_beta_zero():
    annotator = BradleyTerryAnnotator(beta=-1, scale=1.0, seed=0)
    labels = annotator.label(np.array([[0, 1], [2, 3]]), np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.zeros(2))
    assert labels.tolist() == [1, 0]
    with pytest.raises(UserError, match="beta=0"):
        BradleyTerryAnnotator(beta=0, scale=1.0, seed=0)


def test_repeated_labels_of_a_pair_are_fresh_draws():
    annotator = BradleyTerryAnnotator(beta=1.0, scale=1.0, seed=0)
    pairs = np.tile(np.array([0, 1]), (2000, 1))
    labels = annotator.label(pairs, np.zeros(2000), np.zeros(2000), np.arange(2000))
    assert 0.45 < labels.mean() < 0.55
