"""EPIG against a loop over candidate and target pairs, its targets, and the contract shared by the new selectors."""

import numpy as np
import pytest
import torch
from scipy.special import expit, rel_entr

from benchmark.errors import UserError
from benchmark.pairings import CROSS_PROMPT, IN_PROMPT
from benchmark.pools import CandidatePool, pair_keys
from benchmark.selectors import BALDSelector
from benchmark.selectors.posterior import EnsemblePosterior, LaplacePosterior
from tests.test_selectors_properties import PROMPTS, K, build, random_context

TOTAL = PROMPTS * K


def check_contract(name: str, implicit_ok: bool, **params) -> None:
    """Rows valid, distinct, unlabelled and reproducible in both setups; the implicit pool handled or refused."""
    for pairing in (IN_PROMPT, CROSS_PROMPT):
        for seed, fraction in ((0, 0.3), (1, 1.0)):
            context, labelled_keys = random_context(seed, pairing)
            n = max(1, int(fraction * len(context.pool)))
            rows = np.asarray(build(name, **params).select(context, n))
            assert rows.shape == (n,) and rows.dtype.kind == "i" and len(np.unique(rows)) == n, (name, pairing)
            assert rows.min() >= 0 and rows.max() < len(context.pool)
            pairs = context.pool.global_pairs(rows)
            assert not np.isin(pair_keys(pairs[:, 0], pairs[:, 1], TOTAL), labelled_keys).any()
            again, _ = random_context(seed, pairing)
            np.testing.assert_array_equal(build(name, **params).select(again, n), rows)
    context, _ = random_context(0, CROSS_PROMPT)
    empty = np.zeros(0, dtype=np.int64)
    context.pool = CandidatePool(context.pool.response_ids, empty, empty, K, implicit=True, train_responses=TOTAL)
    if not implicit_ok:
        with pytest.raises(UserError, match=name):
            build(name, **params).select(context, 5)


def explicit_differences(context) -> np.ndarray:
    """φ_a − φ_b of every pool pair, one explicit row per pair."""
    phi = context.features.double().numpy()
    return phi[context.pool.first] - phi[context.pool.second]


def test_epig_meets_the_selector_contract():
    check_contract("epig", implicit_ok=False, target_pairs=16)


@pytest.mark.parametrize("posterior", [LaplacePosterior, EnsemblePosterior])
@pytest.mark.parametrize("pairing", [IN_PROMPT, CROSS_PROMPT])
def test_epig_is_the_mean_target_information_under_the_same_samples(posterior, pairing):
    context, _ = random_context(5, pairing)
    selector = build("epig", posterior(samples=16), target_pairs=24)
    context.rng = np.random.default_rng(3)
    ours = selector.scores(context).numpy()
    context.rng = np.random.default_rng(3)
    heads = selector.posterior.sample(context).numpy()  # the same draws, in the same order, as scores()
    targets = selector.targets(context)
    phi = context.featurize(targets.reshape(-1)).double().numpy().reshape(len(targets), 2, -1)
    candidate = expit(explicit_differences(context) @ heads.T)  # (N, S)
    target = expit((phi[:, 0] - phi[:, 1]) @ heads.T)  # (M, S)
    reference = np.zeros(len(candidate))
    for k, p in enumerate(candidate):
        for q in target:
            p_y, q_y = np.stack([p, 1 - p]), np.stack([q, 1 - q])  # (2, S): outcome × sample
            joint = p_y @ q_y.T / len(p)  # p(y, y*) = mean_s p(y|θ_s) p(y*|θ_s)
            product = np.outer(joint.sum(1), joint.sum(0))
            reference[k] += rel_entr(joint, product).sum() / len(target)
    np.testing.assert_allclose(ours, reference, rtol=1e-8, atol=1e-13)
    context.rng = np.random.default_rng(3)
    assert set(selector.select(context, 6)) == set(np.argsort(-reference, kind="stable")[:6])


def test_epig_never_exceeds_bald_under_the_same_samples():
    # y and y* are independent given θ, so I[y; y*] ≤ I[y; θ] (data processing), pair by pair.
    context, _ = random_context(2, IN_PROMPT)
    context.rng = np.random.default_rng(4)
    epig = build("epig", LaplacePosterior(samples=32)).scores(context).numpy()
    context.rng = np.random.default_rng(4)
    bald = BALDSelector(LaplacePosterior(samples=32)).scores(context).numpy()
    assert np.all(epig <= bald + 1e-12)
    assert np.mean(epig < 0.99 * bald) > 0.5


@pytest.mark.parametrize("pairing", [IN_PROMPT, CROSS_PROMPT])
def test_targets_follow_the_pool_setup_and_cover_the_train_split_only(pairing):
    context, _ = random_context(1, pairing)
    seen = []
    featurize = context.featurize
    context.featurize = lambda ids: seen.append(np.asarray(ids)) or featurize(ids)
    selector = build("epig", target_pairs=4000)
    targets = selector.targets(context)
    assert targets.shape == (4000, 2) and targets.min() >= 0 and targets.max() < TOTAL
    assert np.all(targets[:, 0] != targets[:, 1])
    prompts = targets // K
    if pairing is IN_PROMPT:
        assert np.all(prompts[:, 0] == prompts[:, 1])
    else:
        assert np.mean(prompts[:, 0] != prompts[:, 1]) > 0.9
    # Every train prompt appears, about equally often, not just the pool's 8 prompts.
    shares = np.bincount(prompts.reshape(-1), minlength=PROMPTS) / prompts.size
    np.testing.assert_allclose(shares, 1 / PROMPTS, atol=0.012)
    selector.scores(context)
    assert max(ids.max() for ids in seen) < TOTAL


def test_target_setup_overrides_the_pool_and_missing_sizes_are_refused():
    context, _ = random_context(1, IN_PROMPT)
    targets = build("epig", target_pairs=500, target_setup="cross_prompt").targets(context)
    assert np.mean(targets[:, 0] // K != targets[:, 1] // K) > 0.9
    pool = context.pool
    context.pool = CandidatePool(pool.response_ids, pool.first, pool.second, K)
    with pytest.raises(ValueError, match="train_responses"):
        build("epig").targets(context)
    with pytest.raises(UserError, match="target_pairs must be at least 1"):
        build("epig", target_pairs=0)


def test_scores_are_bit_for_bit_those_of_the_entr_formulation():
    """xlogy is exactly −entr and the cells are summed in the same order, so scores (and picks) are unchanged."""
    from benchmark.selectors.epig import CHUNK, expected_information
    from benchmark.selectors.posterior import binary_entropy

    generator = torch.Generator().manual_seed(1)
    candidates = torch.rand(16, CHUNK + 300, dtype=torch.float64, generator=generator)
    targets = torch.rand(16, 40, dtype=torch.float64, generator=generator)
    candidates[:, :3], candidates[:, 3:6] = 0.0, 1.0  # certain pairs: cells of exactly 0
    mean, target_mean = candidates.mean(0)[:, None], targets.mean(0)
    both = candidates.T @ targets / 16
    joint = (torch.special.entr(both) + torch.special.entr((mean - both).clamp(min=0))
             + torch.special.entr((target_mean - both).clamp(min=0))
             + torch.special.entr((1 - mean - target_mean + both).clamp(min=0)))
    expected = binary_entropy(mean[:, 0]) - joint.mean(1) + binary_entropy(target_mean).mean()
    assert torch.equal(expected_information(candidates, targets), expected)
