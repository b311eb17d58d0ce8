"""`greedy_dopt` against brute force: explicit log dets step by step, and the (1 − 1/e) bound."""

from itertools import combinations

import numpy as np
import pytest
import torch

from benchmark.selectors import GreedyDOptimalSelector
from tests.test_dopt import make_context


def explicit_design(context, eps, past_aware):
    """Per-pair v and w = p(1−p), and M_0 = εI (+ Σ_labelled p(1−p)vvᵀ), all float64 and explicit."""
    phi, theta = context.features.double(), context.head.double()
    v = phi[torch.as_tensor(context.pool.first)] - phi[torch.as_tensor(context.pool.second)]
    p = torch.sigmoid(v @ theta)
    start = eps * torch.eye(v.shape[1], dtype=torch.float64)
    if past_aware:
        past = context.labelled_differences.double()
        q = torch.sigmoid(past @ theta)
        start = start + torch.einsum("k,ki,kj->ij", q * (1 - q), past, past)
    return v, p * (1 - p), start


def logdet_after(start, v, w, subsets):
    """log det(M_0 + Σ_{k∈S} w_k v_k v_kᵀ) for each subset S (rows of ``subsets``)."""
    outer = w[:, None, None] * v[:, :, None] * v[:, None, :]
    return torch.linalg.slogdet(start + outer[torch.as_tensor(np.asarray(subsets))].sum(1))[1]


def brute_force_greedy(v, w, start, n):
    picks, values = [], []
    for _ in range(n):
        candidates = [k for k in range(len(v)) if k not in picks]
        logdets = logdet_after(start, v, w, [[*picks, k] for k in candidates])
        best = int(torch.argmax(logdets))
        picks.append(candidates[best])
        values.append(float(logdets[best]))
    return np.array(picks), np.array(values)


@pytest.mark.parametrize("past_aware", [False, True])
@pytest.mark.parametrize(("eps", "n"), [(1e-6, 12), (0.5, 8)])
def test_greedy_equals_brute_force_step_by_step(past_aware, eps, n):
    context = make_context(n_responses=14, h=5, n_pairs=40, n_labelled=6, seed=3)
    rows, gains = GreedyDOptimalSelector(eps=eps, past_aware=past_aware).design(context, n)
    v, w, start = explicit_design(context, eps, past_aware)
    expected_rows, logdets = brute_force_greedy(v, w, start, n)
    np.testing.assert_array_equal(rows, expected_rows)
    base = float(torch.linalg.slogdet(start)[1])
    np.testing.assert_allclose(np.cumsum(gains.numpy()), logdets - base, rtol=1e-8, atol=1e-8)


def test_float64_keeps_a_long_batch_exact():
    context = make_context(n_responses=40, h=6, n_pairs=300, n_labelled=6, seed=5)
    rows, gains = GreedyDOptimalSelector(eps=1e-6).design(context, 60)
    v, w, start = explicit_design(context, 1e-6, past_aware=False)
    total = logdet_after(start, v, w, [rows])[0] - torch.linalg.slogdet(start)[1]
    assert float(gains.sum()) == pytest.approx(float(total), rel=1e-9)
    assert len(set(rows)) == 60


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("past_aware", [False, True])
def test_greedy_meets_the_submodular_bound(seed, past_aware):
    # f(S) = log det(M_0 + Σ_S w vvᵀ) − log det M_0 is monotone submodular with f(∅) = 0 (M_0 ≻ 0), so
    # greedy attains f(greedy) ≥ (1 − 1/e)·f(opt) over all subsets of the same size (Nemhauser et al. 1978).
    context = make_context(n_responses=8, h=4, n_pairs=13, n_labelled=5, seed=seed)
    eps, n = 0.05, 4
    rows, _ = GreedyDOptimalSelector(eps=eps, past_aware=past_aware).design(context, n)
    v, w, start = explicit_design(context, eps, past_aware)
    base = torch.linalg.slogdet(start)[1]
    best = float((logdet_after(start, v, w, list(combinations(range(len(v)), n))) - base).max())
    greedy = float(logdet_after(start, v, w, [rows])[0] - base)
    assert greedy >= (1 - 1 / np.e) * best
    assert greedy <= best + 1e-9
