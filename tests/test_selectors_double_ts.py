"""Double Thompson sampling: exact picks when the posterior is a point, its pair distribution otherwise."""

import numpy as np
import torch

from benchmark.pairings import CROSS_PROMPT, IN_PROMPT
from benchmark.pools import CandidatePool, build_pool, pair_keys
from benchmark.selectors import SelectionContext
from benchmark.selectors.posterior import LaplacePosterior
from tests.test_selectors_epig import check_contract
from tests.test_selectors_properties import PROMPTS, K, build, random_context

POINT = 1e14  # prior precision that shrinks the Laplace posterior onto θ̂


def greedy_reference(context, n: int) -> list[tuple[int, int]]:
    """Cross-prompt double TS with θ₁ = θ₂ = θ̂, by loops: the best response with a partner, and its best partner."""
    rewards = (context.features.double() @ context.head.double()).numpy()
    available = {(int(a), int(b)) for a, b in zip(context.pool.first, context.pool.second, strict=True)}
    picked = []
    for _ in range(n):
        a = max({i for pair in available for i in pair}, key=lambda i: rewards[i])
        b = max((j for pair in available if a in pair for j in pair if j != a), key=lambda i: rewards[i])
        available.discard((min(a, b), max(a, b)))
        picked.append((min(a, b), max(a, b)))
    return picked


def test_double_ts_meets_the_selector_contract():
    check_contract("double_ts", implicit_ok=True)


def test_a_point_posterior_pairs_each_prompts_best_response_with_its_best_partner():
    for seed in range(3):
        context, _ = random_context(seed, IN_PROMPT)
        rows = build("double_ts", LaplacePosterior(prior_precision=POINT)).select(context, 6)
        pool, rewards = context.pool, (context.features.double() @ context.head.double()).numpy()
        prompt = pool.prompt_of_response[pool.first[rows]]
        assert len(set(prompt)) == 6  # distinct prompts while any is left
        for row, g in zip(rows, prompt, strict=True):
            # Every pool pair of this prompt; the pick joins the best response having one with its best partner.
            mine = [(a, b) for a, b in zip(pool.first, pool.second, strict=True) if pool.prompt_of_response[a] == g]
            ends = {i for pair in mine for i in pair}
            a = max(ends, key=lambda i: rewards[i])
            b = max((j for pair in mine if a in pair for j in pair if j != a), key=lambda i: rewards[i])
            assert {pool.first[row], pool.second[row]} == {a, b}


def test_a_point_posterior_across_prompts_takes_the_best_response_and_its_best_partners_in_turn():
    context, _ = random_context(2, CROSS_PROMPT)
    rows = build("double_ts", LaplacePosterior(prior_precision=POINT), max_redraws=0).select(context, 8)
    expected = greedy_reference(context, 8)
    assert [(context.pool.first[r], context.pool.second[r]) for r in rows] == expected


def test_the_implicit_pool_picks_the_same_pairs_as_its_explicit_listing():
    rng = np.random.default_rng(3)
    total = PROMPTS * K
    labelled = rng.choice(total, size=(80, 2))
    labelled = labelled[labelled[:, 0] != labelled[:, 1]]
    keys = np.unique(pair_keys(labelled[:, 0], labelled[:, 1], total))
    args = (np.arange(0, PROMPTS, 4), K, CROSS_PROMPT, None, keys, total, rng)
    explicit, implicit = build_pool(*args, implicit_min_pairs=10**9), build_pool(*args, implicit_min_pairs=0)
    assert implicit.implicit and len(implicit.excluded) > 0
    table = torch.as_tensor(rng.normal(size=(total, 4)), dtype=torch.float32)

    def select(pool: CandidatePool) -> np.ndarray:
        context = SelectionContext(
            pool=pool, features=table[torch.as_tensor(pool.response_ids)], head=torch.ones(4),
            labelled_pairs=labelled, labels=np.ones(len(labelled), dtype=np.int8),
            featurize=lambda ids: table[torch.as_tensor(ids)], rng=np.random.default_rng(1),
        )
        return build("double_ts").select(context, 40)

    ours, listed = select(implicit), select(explicit)
    assert not implicit.is_excluded(ours).any()
    np.testing.assert_array_equal(implicit.global_pairs(ours), explicit.global_pairs(listed))


def test_pairs_follow_the_double_thompson_distribution():
    # One prompt of 3 responses, no labels: θ ~ N(θ̂, I/λ). The first response is TS's argmax; the second is
    # the argmax of a fresh θ given that it differs, so P{i, j} = P_i P_j / (1 − P_i) + P_j P_i / (1 − P_j).
    phi = np.array([[1.0, 0.0], [0.0, 1.0], [-0.7, -0.7]])
    head = np.array([0.4, 0.1])
    pool = CandidatePool(np.arange(3), np.array([0, 0, 1]), np.array([1, 2, 2]), 3)
    counts, selector = np.zeros(3), build("double_ts", max_redraws=50)
    for seed in range(3000):
        context = SelectionContext(
            pool=pool, features=torch.as_tensor(phi, dtype=torch.float32),
            head=torch.as_tensor(head, dtype=torch.float32), labelled_pairs=np.zeros((0, 2), dtype=np.int64),
            labels=np.zeros(0, dtype=np.int8), featurize=lambda ids: torch.zeros((len(ids), 2)),
            rng=np.random.default_rng(seed),
        )
        counts[selector.select(context, 1)[0]] += 1
    theta = head + np.random.default_rng(0).normal(size=(400_000, 2))  # λ = 1
    best = np.bincount(np.argmax(theta @ phi.T, axis=1), minlength=3) / len(theta)
    cells = ((0, 1), (0, 2), (1, 2))
    expected = [best[i] * best[j] / (1 - best[i]) + best[j] * best[i] / (1 - best[j]) for i, j in cells]
    np.testing.assert_allclose(counts / counts.sum(), expected, atol=0.03)
    uniform_second = [(best[i] + best[j]) / 2 for i, j in cells]  # TS, then any other response
    assert np.abs(np.subtract(expected, uniform_second)).max() > 0.06  # so the check can tell them apart


def test_a_capped_pool_only_offers_its_own_pairs():
    # Prompt 0 of K = 4 where the pool lacks the pair (best, second best): the pick is the best listed pair.
    phi = torch.as_tensor([[3.0], [2.0], [1.0], [0.0]])
    pool = build_pool(np.array([0]), 4, IN_PROMPT, 5, np.zeros(0, np.int64), 8, np.random.default_rng(0))
    missing = ({(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)} - set(zip(pool.first, pool.second, strict=True))).pop()
    context = SelectionContext(
        pool=pool, features=phi, head=torch.ones(1), labelled_pairs=np.zeros((0, 2), dtype=np.int64),
        labels=np.zeros(0, dtype=np.int8), featurize=lambda ids: torch.zeros((len(ids), 1)),
        rng=np.random.default_rng(0),
    )
    rows = build("double_ts", LaplacePosterior(prior_precision=POINT)).select(context, 5)
    pairs = [(pool.first[r], pool.second[r]) for r in rows]
    assert missing not in pairs and len(set(pairs)) == 5
    assert pairs[0] == ((0, 1) if missing != (0, 1) else (0, 2))
