"""Invariants that must hold for every input, checked on inputs hypothesis generates (and shrinks)."""

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from benchmark.metrics import best_of_n, pairwise_accuracy, spearman_per_prompt
from benchmark.pairings import IN_PROMPT, SHIPPED, Mixed
from benchmark.pools import CandidatePool, build_pool, pair_keys
from benchmark.selectors import DOptimalSelector, EntropySelector, RandomSelector, SelectionContext, Selector

FEW = settings(max_examples=30, deadline=None)


@st.composite
def pools(draw: st.DrawFn) -> tuple[CandidatePool, dict]:
    """A pool built from random prompts, pairing, cap and already-labelled pairs, with those inputs."""
    k = draw(st.integers(2, 5))
    total_prompts = draw(st.integers(1, 10))
    prompts = np.array(sorted(draw(st.sets(st.integers(0, total_prompts - 1), min_size=1))), dtype=np.int64)
    pairing = draw(st.sampled_from([*SHIPPED, Mixed(0.0), Mixed(1.0), Mixed(draw(st.floats(0, 1)))]))
    total = total_prompts * k
    pair = st.tuples(st.integers(0, total - 1), st.integers(0, total - 1)).filter(lambda p: p[0] != p[1])
    labelled = np.array(draw(st.lists(pair, max_size=25)), dtype=np.int64).reshape(-1, 2)
    keys = np.sort(pair_keys(labelled[:, 0], labelled[:, 1], total))
    cap = draw(st.integers(1, 80) if isinstance(pairing, Mixed) else st.none() | st.integers(1, 80))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    pool = build_pool(prompts, k, pairing, cap, keys, total, rng)
    return pool, {"prompts": prompts, "k": k, "pairing": pairing, "keys": keys, "cap": cap, "total": total}


def free_pairs(inputs: dict, response_ids: np.ndarray, same_prompt: bool | None) -> int:
    """Unlabelled pairs among the round's responses, counted by brute force: all of them (``same_prompt`` None),
    or those whose two responses share a prompt (True) or not (False)."""
    first, second = np.triu_indices(len(response_ids), 1)
    low, high = response_ids[first], response_ids[second]
    same = low // inputs["k"] == high // inputs["k"]
    keep = np.ones(len(low), dtype=bool) if same_prompt is None else same == same_prompt
    return int(np.count_nonzero(keep & ~np.isin(pair_keys(low, high, inputs["total"]), inputs["keys"])))


def expected_parts(inputs: dict, response_ids: np.ndarray) -> list[tuple[bool | None, int]]:
    """(which pairs, how many) the pool must hold: each part's cap, or all its free pairs when fewer."""
    pairing, cap = inputs["pairing"], inputs["cap"]
    if isinstance(pairing, Mixed):
        cross = int(cap * pairing.cross_fraction + 0.5)
        parts = [(True, cap - cross), (False, cross)]
    else:
        parts = [(True if pairing is IN_PROMPT else None, cap)]
    return [(which, free_pairs(inputs, response_ids, which) if part_cap is None
             else min(part_cap, free_pairs(inputs, response_ids, which))) for which, part_cap in parts]


@FEW
@given(pools())
def test_pool_rows_are_valid_unique_unlabelled_and_capped(built):
    pool, inputs = built
    k, responses = inputs["k"], len(pool.response_ids)
    assert np.array_equal(pool.response_ids, (inputs["prompts"][:, None] * k + np.arange(k)).reshape(-1))
    assert np.all((pool.first >= 0) & (pool.first < pool.second) & (pool.second < responses))
    pairs = pool.global_pairs(np.arange(len(pool)))
    keys = pair_keys(pairs[:, 0], pairs[:, 1], inputs["total"])
    assert len(np.unique(keys)) == len(keys), "a pair is offered twice"
    assert not np.isin(keys, inputs["keys"]).any(), "an already-labelled pair is offered"
    same = pool.prompt_of_response[pool.first] == pool.prompt_of_response[pool.second]
    for which, count in expected_parts(inputs, pool.response_ids):
        assert (len(pool) if which is None else int(np.count_nonzero(same == which))) == count, which
    assert len(pool) == sum(count for _, count in expected_parts(inputs, pool.response_ids))


SELECTORS = [RandomSelector(), EntropySelector(), DOptimalSelector(), DOptimalSelector(past_aware=True)]


@FEW
@given(pools(), st.sampled_from(SELECTORS), st.integers(1, 8), st.integers(0, 2**32 - 1), st.data())
def test_selectors_return_valid_distinct_rows(built, selector: Selector, width, seed, data):
    pool, inputs = built
    if len(pool) == 0:
        return
    n = data.draw(st.integers(1, len(pool)))
    generator = torch.Generator().manual_seed(seed)
    table = torch.randn(inputs["total"], width, generator=generator)
    labelled = np.divmod(np.unique(inputs["keys"]), inputs["total"])
    context = SelectionContext(
        pool=pool,
        features=table[pool.response_ids],
        head=torch.randn(width, generator=generator),
        labelled_pairs=np.stack(labelled, axis=1),
        labels=np.ones(len(labelled[0]), dtype=np.int8),
        featurize=lambda ids: table[ids],
        rng=np.random.default_rng(seed),
    )
    rows = np.asarray(selector.select(context, n))
    assert rows.shape == (n,)
    assert len(np.unique(rows)) == n
    assert rows.min() >= 0 and rows.max() < len(pool)


@st.composite
def scored_prompts(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Predicted and golden rewards (P, K) with plenty of ties (hypothesis repeats values)."""
    shape = (draw(st.integers(1, 6)), draw(st.integers(2, 8)))
    values = st.floats(-3, 3, allow_nan=False, allow_infinity=False)
    return draw(arrays(np.float64, shape, elements=values)), draw(arrays(np.float64, shape, elements=values))


def permute_within_prompts(rng: np.random.Generator, *tables: np.ndarray) -> list[np.ndarray]:
    """The same random reordering of each prompt's responses applied to every table."""
    order = np.argsort(rng.random(tables[0].shape), axis=1)
    rows = np.arange(tables[0].shape[0])[:, None]
    return [table[rows, order] for table in tables]


@FEW
@given(scored_prompts(), st.integers(0, 2**32 - 1))
def test_spearman_is_bounded_and_ignores_response_order(scores, seed):
    predicted, golden = scores
    rho, skipped = spearman_per_prompt(predicted, golden)
    constant = int(np.sum(golden.max(axis=1) == golden.min(axis=1)))
    assert skipped == constant
    if constant == len(golden):
        assert np.isnan(rho)
        return
    assert -1 - 1e-12 <= rho <= 1 + 1e-12
    shuffled_rho, _ = spearman_per_prompt(*permute_within_prompts(np.random.default_rng(seed), predicted, golden))
    assert np.isclose(shuffled_rho, rho, atol=1e-12)
    assert np.isclose(spearman_per_prompt(golden, golden)[0], 1.0)


@FEW
@given(scored_prompts(), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_best_of_n_lies_between_the_worst_and_the_oracle(scores, repeats, seed):
    predicted, golden = scores
    prompts, k = golden.shape
    rng = np.random.default_rng(seed)
    subsets = np.argsort(rng.random((repeats, prompts, k)), axis=2)
    ns = sorted({1, k, int(rng.integers(1, k + 1))})
    out = best_of_n(predicted, golden, subsets, ns)
    rows = np.arange(prompts)[:, None]
    for n in ns:
        worst = np.mean([golden[rows, s[:, :n]].min(axis=1).mean() for s in subsets])
        tolerance = 1e-9
        assert worst - tolerance <= out[f"bon/{n}"] <= out[f"bon_oracle/{n}"] + tolerance
        assert worst - tolerance <= out[f"bon_random/{n}"] <= out[f"bon_oracle/{n}"] + tolerance
    assert np.isclose(out["bon/1"], out["bon_random/1"]) and np.isclose(out["bon_oracle/1"], out["bon_random/1"])
    oracle = best_of_n(golden, golden, subsets, [k])
    assert np.isclose(oracle[f"bon/{k}"], oracle[f"bon_oracle/{k}"])


@FEW
@given(scored_prompts(), st.integers(0, 2**32 - 1))
def test_pairwise_accuracy_is_a_share(scores, seed):
    predicted, golden = scores
    rng = np.random.default_rng(seed)
    prompts, k = golden.shape
    first = rng.integers(0, k, size=(prompts, 16))
    pairs = np.stack([first, (first + rng.integers(1, k, size=(prompts, 16))) % k], axis=-1)
    accuracy = pairwise_accuracy(predicted, golden, pairs)
    assert np.isnan(accuracy) or 0.0 <= accuracy <= 1.0
    perfect = pairwise_accuracy(golden, golden, pairs)
    assert np.isnan(perfect) or perfect == 1.0
