"""The implicit all-pairs pool against the explicit listing of the same pairs: same rows, scores and picks."""

import numpy as np
import pytest
import torch
from scipy.special import comb

from benchmark import pools
from benchmark.diagnostics import batch_diagnostics
from benchmark.errors import UserError
from benchmark.pairings import CROSS_PROMPT, rank_triangle
from benchmark.pools import CandidatePool, build_pool, pair_keys
from benchmark.runner import run_experiment
from benchmark.selectors import DOptimalSelector, EntropySelector, RandomSelector, SelectionContext, allpairs
from benchmark.selectors.allpairs import top_pairs

K, PROMPTS, TOTAL = 6, np.array([0, 3, 4, 9, 11, 12, 15, 17, 18, 20]), 25 * 6  # R = 60 responses


@pytest.fixture(autouse=True)
def _small_blocks(monkeypatch):
    """Blocks of ~200 entries, so every test crosses many block and exclusion boundaries."""
    monkeypatch.setattr(allpairs, "BLOCK_VALUES", 200)


def labelled_keys(rng: np.random.Generator) -> np.ndarray:
    """Labelled pairs: some inside this round's responses (to exclude), some outside."""
    pairs = rng.choice(TOTAL, size=(80, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    return np.unique(pair_keys(pairs[:, 0], pairs[:, 1], TOTAL))


def both_pools(seed: int = 0) -> tuple[CandidatePool, CandidatePool]:
    keys = labelled_keys(np.random.default_rng(seed))
    args = (PROMPTS, K, CROSS_PROMPT, None, keys, TOTAL, np.random.default_rng(1))
    return build_pool(*args, implicit_min_pairs=10**9), build_pool(*args, implicit_min_pairs=0)


def context_for(pool: CandidatePool, seed: int = 0, h: int = 5) -> SelectionContext:
    rng = np.random.default_rng(seed)
    features = torch.as_tensor(rng.normal(size=(len(pool.response_ids), h)) + 3.0, dtype=torch.float32)
    labelled = np.array([[0, 7], [2, 40], [5, 6]])
    lookup = torch.as_tensor(rng.normal(size=(TOTAL, h)), dtype=torch.float32)
    return SelectionContext(
        pool=pool, features=features, head=torch.as_tensor(rng.normal(size=h), dtype=torch.float32),
        labelled_pairs=labelled, labels=np.ones(len(labelled), dtype=np.int8),
        featurize=lambda ids: lookup[torch.as_tensor(ids)], rng=np.random.default_rng(seed),
    )


def test_implicit_pool_rows_are_the_explicit_pairs_by_rank():
    explicit, implicit = both_pools()
    responses = len(implicit.response_ids)
    assert implicit.implicit and not explicit.implicit
    assert len(implicit) == comb(responses, 2, exact=True)
    assert len(implicit.excluded) > 0 and len(explicit) == len(implicit) - len(implicit.excluded)
    ranks = rank_triangle(explicit.first, explicit.second, responses)
    np.testing.assert_array_equal(ranks, np.setdiff1d(np.arange(len(implicit)), implicit.excluded))
    np.testing.assert_array_equal(implicit.global_pairs(ranks), explicit.global_pairs(np.arange(len(explicit))))
    assert implicit.is_excluded(implicit.excluded).all() and not implicit.is_excluded(ranks).any()


def test_rank_and_unrank_invert_each_other_at_paper_size():
    n = 5000
    ranks = np.concatenate([np.arange(10), np.random.default_rng(0).integers(0, comb(n, 2, exact=True), 10_000),
                            comb(n, 2, exact=True) - np.arange(1, 10)])
    first, second = CROSS_PROMPT.unrank(ranks, n, 1)
    assert np.all((first >= 0) & (first < second) & (second < n))
    np.testing.assert_array_equal(rank_triangle(first, second, n), ranks)


def implicit_score_matrix(selector: DOptimalSelector, context: SelectionContext) -> np.ndarray:
    responses = len(context.pool.response_ids)
    scores = selector.block_scores(context)
    full = np.full((responses, responses), np.nan)
    for start, stop in allpairs.blocks(responses):
        full[start:stop, start:] = scores(start, stop).double().numpy()
    return full


@pytest.mark.parametrize(
    "selector",
    [DOptimalSelector(), DOptimalSelector(past_aware=True), DOptimalSelector(weighted=False, eps=0.1)],
    ids=["dopt", "pastaware", "xtx"],
)
def test_dopt_on_the_implicit_pool_equals_the_explicit_computation(selector):
    explicit, implicit = both_pools()
    on_list, on_all = context_for(explicit), context_for(implicit)
    np.testing.assert_allclose(selector.information(on_all), selector.information(on_list), rtol=1e-9, atol=1e-9)
    reference = selector.scores(on_list).numpy()
    full = implicit_score_matrix(selector, on_all)
    np.testing.assert_allclose(full[explicit.first, explicit.second], reference, rtol=2e-4, atol=1e-5 * reference.max())
    chosen = selector.select(on_all, 12)
    np.testing.assert_array_equal(implicit.global_pairs(chosen), explicit.global_pairs(selector.select(on_list, 12)))


def test_entropy_on_the_implicit_pool_picks_exactly_the_explicit_pairs():
    explicit, implicit = both_pools(seed=3)
    chosen = EntropySelector().select(context_for(implicit), 30)
    expected = EntropySelector().select(context_for(explicit), 30)
    np.testing.assert_array_equal(implicit.global_pairs(chosen), explicit.global_pairs(expected))


def test_top_pairs_breaks_ties_by_rank_and_skips_excluded_pairs():
    _, implicit = both_pools()
    constant = top_pairs(implicit, lambda start, stop: torch.zeros(stop - start, 60 - start), 50)
    expected = np.setdiff1d(np.arange(len(implicit)), implicit.excluded)[:50]
    np.testing.assert_array_equal(constant, expected)
    with pytest.raises(ValueError, match="selectable pairs"):
        top_pairs(implicit, lambda start, stop: torch.zeros(stop - start, 60 - start), len(implicit))


def test_random_on_the_implicit_pool_avoids_labelled_pairs():
    _, implicit = both_pools()
    chosen = RandomSelector().select(context_for(implicit), len(implicit) - len(implicit.excluded))
    assert len(np.unique(chosen)) == len(chosen) and not implicit.is_excluded(chosen).any()


def test_listing_an_implicit_pool_is_refused_and_diagnostics_still_work():
    explicit, implicit = both_pools()
    on_all = context_for(implicit)
    with pytest.raises(UserError, match="candidates_per_round"):
        _ = on_all.reward_differences
    rows_list = np.array([0, 5, 9, 100, 700])
    rows_all = rank_triangle(explicit.first[rows_list], explicit.second[rows_list], len(implicit.response_ids))
    assert batch_diagnostics(on_all, rows_all) == pytest.approx(batch_diagnostics(context_for(explicit), rows_list))


def test_loop_runs_on_the_implicit_pool_and_never_relabels(make_config, run_dir, monkeypatch):
    monkeypatch.setattr(pools, "IMPLICIT_MIN_PAIRS", 0)
    cfg = make_config("setup=cross_prompt", "candidates_per_round=null", "selector=pastaware_dopt", "budget=60")
    run_experiment(cfg, run_dir)
    pairs = np.concatenate([np.load(path)["pairs"] for path in sorted((run_dir / "selections").glob("*.npz"))])
    keys = pair_keys(pairs[:, 0], pairs[:, 1], 10**6)
    assert len(pairs) == 20 + 60 and len(np.unique(keys)) == len(keys)
    records = (run_dir / "metrics.jsonl").read_text().splitlines()
    assert f'"pool_size": {comb(12 * 10, 2, exact=True)}' in records[-1]
