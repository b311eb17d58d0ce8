"""The five confidence-bound selectors of ActiveUltraFeedback against loops over their definitions.

Bounds are recomputed here from the labelled pairs with numpy (the Laplace covariance by explicit inversion);
each rule is then evaluated pair by pair on the listed pool.
"""

import itertools

import numpy as np
import pytest
import torch

from benchmark.pairings import CROSS_PROMPT, IN_PROMPT
from benchmark.pools import CandidatePool, build_pool, pair_keys
from benchmark.selectors import SelectionContext
from benchmark.selectors.posterior import EnsemblePosterior, LaplacePosterior
from tests.test_selectors_properties import PROMPTS, K, build, random_context

NAMES = ["deltaucb", "drts", "infomax", "maxminlcb", "rucb"]


def sigmoid(x: float) -> float:
    return 1 / (1 + np.exp(-x))


def reference_bounds(context: SelectionContext, beta: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """μ = φθ̂ and w = β·√(φᵀ(I + Σ_labelled p(1−p)vvᵀ)⁻¹φ), by explicit inversion."""
    phi = context.features.double().numpy()
    head = context.head.double().numpy()
    table = {int(i): context.featurize(np.array([i]))[0].double().numpy() for i in np.unique(context.labelled_pairs)}
    precision = np.eye(len(head))
    for a, b in context.labelled_pairs:
        v = table[int(a)] - table[int(b)]
        p = sigmoid(v @ head)
        precision += p * (1 - p) * np.outer(v, v)
    covariance = np.linalg.inv(precision)
    return phi @ head, beta * np.sqrt(np.einsum("ri,ij,rj->r", phi, covariance, phi))


def listed_pairs(context: SelectionContext) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for a, b in zip(context.pool.first, context.pool.second, strict=True)]


def picked(context: SelectionContext, rows: np.ndarray) -> list[tuple[int, int]]:
    return [(int(context.pool.first[r]), int(context.pool.second[r])) for r in rows]


def test_laplace_moments_are_the_exact_posterior_mean_and_std_of_each_reward():
    context, _ = random_context(4, CROSS_PROMPT)
    mean, std = LaplacePosterior().reward_moments(context)
    expected_mean, expected_std = reference_bounds(context)
    np.testing.assert_allclose(mean.numpy(), expected_mean, rtol=1e-10)
    np.testing.assert_allclose(std.numpy(), expected_std, rtol=1e-8)


def test_ensemble_moments_are_the_members_mean_and_std():
    context, _ = random_context(4, CROSS_PROMPT)
    posterior = EnsemblePosterior(samples=5)
    mean, std = posterior.reward_moments(context)
    context.rng = np.random.default_rng(4)  # the same stream again: the same members
    rewards = context.features.double().numpy() @ posterior.sample(context).numpy().T
    np.testing.assert_allclose(mean.numpy(), rewards.mean(1), rtol=1e-12)
    np.testing.assert_allclose(std.numpy(), rewards.std(1), rtol=1e-12)


def pair_score_reference(name: str, mean: np.ndarray, width: np.ndarray, a: int, b: int) -> float:
    upper, lower = mean + width, mean - width
    if name == "deltaucb":
        return max(upper[a] - lower[b], upper[b] - lower[a])
    # infomax: the width of the interval of P(a ≻ b) (the same for P(b ≻ a)).
    return sigmoid(upper[a] - lower[b]) - sigmoid(lower[a] - upper[b])


@pytest.mark.parametrize("name", ["deltaucb", "infomax"])
@pytest.mark.parametrize("beta", [1.0, 2.0])
def test_pair_scores_take_the_top_pairs_of_a_cross_prompt_pool(name, beta):
    for seed in range(3):
        context, _ = random_context(seed, CROSS_PROMPT)
        mean, width = reference_bounds(context, beta)
        pairs = listed_pairs(context)
        scores = [pair_score_reference(name, mean, width, a, b) for a, b in pairs]
        expected = sorted(range(len(pairs)), key=lambda k: (-scores[k], k))[:12]
        np.testing.assert_array_equal(build(name, beta=beta).select(context, 12), expected)


@pytest.mark.parametrize("name", ["deltaucb", "infomax"])
def test_pair_scores_take_each_prompts_best_pair_in_turn_in_prompt(name):
    context, _ = random_context(1, IN_PROMPT)
    mean, width = reference_bounds(context)
    pairs, prompt = listed_pairs(context), context.pool.prompt_of_response
    prompts = len(set(prompt[context.pool.first]))
    n = prompts + 3
    rows = build(name).select(context, n)
    available = set(range(len(pairs)))
    for row in rows:
        g = prompt[pairs[row][0]]
        mine = [k for k in available if prompt[pairs[k][0]] == g]
        assert row == max(mine, key=lambda k: (pair_score_reference(name, mean, width, *pairs[k]), -k))
        available.discard(row)
    assert len({prompt[pairs[r][0]] for r in rows[:prompts]}) == prompts  # every prompt once before any twice


def test_deltaucb_prefers_large_gaps_and_infomax_small_ones():
    # Equal widths: DeltaUCB takes the widest-apart pair, InfoMax the closest pair.
    phi = torch.as_tensor([[0.0], [1.0], [1.2], [5.0]])
    pool = CandidatePool(np.arange(4), *map(np.array, zip(*itertools.combinations(range(4), 2), strict=True)), 1)
    context = SelectionContext(
        pool=pool, features=phi, head=torch.ones(1), labelled_pairs=np.zeros((0, 2), dtype=np.int64),
        labels=np.zeros(0, dtype=np.int8), featurize=lambda ids: torch.zeros((len(ids), 1)),
        rng=np.random.default_rng(0),
    )
    narrow = LaplacePosterior(prior_precision=1e6)
    assert picked(context, build("deltaucb", posterior=narrow).select(context, 1)) == [(0, 3)]
    assert picked(context, build("infomax", posterior=narrow).select(context, 1)) == [(1, 2)]


def maxmin_reference(context: SelectionContext, n: int) -> list[tuple[int, int]]:
    """Cross-prompt MaxMinLCB by loops over the still-available listed pairs."""
    mean, width = reference_bounds(context)
    available = set(listed_pairs(context))
    out = []
    for _ in range(n):
        partners = {}
        for a, b in available:
            partners.setdefault(a, []).append(b)
            partners.setdefault(b, []).append(a)

        def lcb(i: int, j: int) -> float:
            return mean[i] - mean[j] - (width[i] + width[j])

        i = max(sorted(partners), key=lambda i: min(lcb(i, j) for j in partners[i]))
        j = min(partners[i], key=lambda j: lcb(i, j))
        available.discard((min(i, j), max(i, j)))
        out.append((min(i, j), max(i, j)))
    return out


def test_maxminlcb_pairs_the_best_pessimistic_response_with_its_strongest_challenger():
    for seed in range(3):
        context, _ = random_context(seed, CROSS_PROMPT)
        assert picked(context, build("maxminlcb").select(context, 10)) == maxmin_reference(context, 10)


def test_rucb_duels_a_plausibly_best_response_against_its_highest_upper_bound_partner():
    context, _ = random_context(2, CROSS_PROMPT)
    mean, width = reference_bounds(context, 0.3)
    upper, lower = mean + width, mean - width
    available = set(listed_pairs(context))
    for a, b in picked(context, build("rucb", beta=0.3).select(context, 10)):
        partners = {}
        for x, y in available:
            partners.setdefault(x, []).append(y)
            partners.setdefault(y, []).append(x)
        plausible = {c for c in partners if all(upper[c] >= lower[j] for j in partners if j != c)}
        assert any(c in plausible and other == max(partners[c], key=lambda j: upper[j])
                   for c, other in ((a, b), (b, a)))
        available.discard((a, b))


def one_prompt(phi: np.ndarray, head: np.ndarray, seed: int) -> SelectionContext:
    pairs = list(itertools.combinations(range(len(phi)), 2))
    pool = CandidatePool(np.arange(len(phi)), *map(np.array, zip(*pairs, strict=True)), len(phi))
    return SelectionContext(
        pool=pool, features=torch.as_tensor(phi, dtype=torch.float32), head=torch.as_tensor(head, dtype=torch.float32),
        labelled_pairs=np.zeros((0, 2), dtype=np.int64), labels=np.zeros(0, dtype=np.int8),
        featurize=lambda ids: torch.zeros((len(ids), phi.shape[1])), rng=np.random.default_rng(seed),
    )


PHI, HEAD = np.array([[1.0, 0.0], [0.0, 1.0], [-0.7, -0.7], [0.2, 0.3]]), np.array([0.4, 0.1])


def test_rucb_draws_its_plausible_best_response_uniformly():
    mean, width = reference_bounds(one_prompt(PHI, HEAD, 0), 0.3)
    upper, lower = mean + width, mean - width
    plausible = [c for c in range(4) if all(upper[c] >= lower[j] for j in range(4) if j != c)]
    assert 1 < len(plausible) < 4  # so uniform over them is a checkable claim
    expected = np.zeros(6)
    cells = list(itertools.combinations(range(4), 2))
    for c in plausible:
        other = max((j for j in range(4) if j != c), key=lambda j: upper[j])
        expected[cells.index((min(c, other), max(c, other)))] += 1 / len(plausible)
    counts = np.bincount([build("rucb", beta=0.3).select(one_prompt(PHI, HEAD, seed), 1)[0] for seed in range(600)],
                         minlength=6)
    np.testing.assert_allclose(counts / counts.sum(), expected, atol=0.06)


def test_drts_pairs_follow_a_forward_and_a_reverse_draw_inside_the_intervals():
    mean, width = reference_bounds(one_prompt(PHI, HEAD, 0), 2.0)
    rng = np.random.default_rng(0)
    z, z_reverse = rng.uniform(-1, 1, (200_000, 4)), rng.uniform(-1, 1, (200_000, 4))
    first = np.argmax(mean + z * width, axis=1)
    best = np.bincount(first, minlength=4) / len(first)
    worst = np.bincount(np.argmax(-mean + z_reverse * width, axis=1), minlength=4) / len(first)
    cells = list(itertools.combinations(range(4), 2))
    # a forward, then a reverse draw conditioned on not being a: P{i, j} = P_i Q_j / (1 − Q_i) + P_j Q_i / (1 − Q_j).
    expected = [best[i] * worst[j] / (1 - worst[i]) + best[j] * worst[i] / (1 - worst[j]) for i, j in cells]
    selector = build("drts", beta=2.0, max_iterations=60)
    counts = np.bincount([selector.select(one_prompt(PHI, HEAD, seed), 1)[0] for seed in range(1500)], minlength=6)
    np.testing.assert_allclose(counts / counts.sum(), expected, atol=0.04)


def test_drts_without_width_pairs_the_best_response_with_its_worst_partner_in_turn():
    context, _ = random_context(3, CROSS_PROMPT)
    mean, _ = reference_bounds(context)
    available, expected = set(listed_pairs(context)), []
    for _ in range(8):
        top = max({i for pair in available for i in pair}, key=lambda i: mean[i])
        worst = min((j for pair in available if top in pair for j in pair if j != top), key=lambda j: mean[j])
        expected.append((min(top, worst), max(top, worst)))
        available.discard(expected[-1])
    assert picked(context, build("drts", beta=0.0, max_iterations=1).select(context, 8)) == expected


@pytest.mark.parametrize("name", NAMES)
def test_the_implicit_pool_picks_the_same_pairs_as_its_explicit_listing(name):
    rng = np.random.default_rng(5)
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
        return build(name).select(context, 40)

    ours, listed = select(implicit), select(explicit)
    assert not implicit.is_excluded(ours).any()
    np.testing.assert_array_equal(implicit.global_pairs(ours), explicit.global_pairs(listed))
