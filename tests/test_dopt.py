"""D-optimal scores against an independent definition: autograd of log det M(w) at w = 1."""

import numpy as np
import pytest
import torch

from benchmark.pools import CandidatePool
from benchmark.selectors import DOptimalSelector, EntropySelector, SelectionContext


def make_context(n_responses=14, h=5, n_pairs=30, n_labelled=6, seed=0) -> SelectionContext:
    rng = np.random.default_rng(seed)
    features = torch.as_tensor(rng.normal(size=(n_responses, h)), dtype=torch.float32)
    first, second = np.triu_indices(n_responses, 1)
    keep = np.sort(rng.choice(len(first), size=n_pairs, replace=False))
    pool = CandidatePool(np.arange(n_responses), first[keep], second[keep], n_responses)
    labelled = np.stack([np.arange(n_labelled), np.arange(n_labelled) + 1], axis=1)
    lookup = torch.as_tensor(rng.normal(size=(100, h)), dtype=torch.float32)
    return SelectionContext(
        pool=pool, features=features, head=torch.as_tensor(rng.normal(size=h), dtype=torch.float32),
        labelled_pairs=labelled, labels=np.ones(n_labelled, dtype=np.int8),
        featurize=lambda ids: lookup[torch.as_tensor(ids)], rng=np.random.default_rng(0),
    )


def autograd_scores(context: SelectionContext, eps: float, past_aware: bool) -> np.ndarray:
    """∂/∂w log det(Σ_k w_k p_k(1−p_k) v_k v_kᵀ + εI [+ past]) at w = 1, by autograd, one explicit v per pair."""
    phi, theta = context.features.double(), context.head.double()
    v = phi[torch.as_tensor(context.pool.first)] - phi[torch.as_tensor(context.pool.second)]
    p = torch.sigmoid(v @ theta)
    w = torch.ones(len(v), dtype=torch.float64, requires_grad=True)
    information = torch.einsum("k,ki,kj->ij", w * p * (1 - p), v, v) + eps * torch.eye(v.shape[1], dtype=torch.float64)
    if past_aware:
        past = context.labelled_differences.double()
        q = torch.sigmoid(past @ theta)
        information = information + torch.einsum("k,ki,kj->ij", q * (1 - q), past, past)
    torch.logdet(information).backward()
    return w.grad.numpy()


@pytest.mark.parametrize("past_aware", [False, True])
@pytest.mark.parametrize("eps", [1e-6, 0.1])
def test_dopt_score_is_the_logdet_gradient(past_aware, eps):
    context = make_context()
    selector = DOptimalSelector(eps=eps, past_aware=past_aware)
    ours = selector.scores(context).numpy()
    reference = autograd_scores(context, eps, past_aware)
    np.testing.assert_allclose(ours, reference, rtol=1e-6)
    chosen = selector.select(context, 7)
    assert set(chosen) == set(np.argsort(-reference)[:7])


def test_past_term_changes_the_scores():
    context = make_context()
    plain = DOptimalSelector(past_aware=False).scores(context)
    past = DOptimalSelector(past_aware=True).scores(context)
    assert not torch.allclose(plain, past)


def test_scores_sum_to_h_without_past():
    context = make_context(n_pairs=60)
    assert DOptimalSelector(eps=1e-9).scores(context).sum().item() == pytest.approx(5.0, rel=1e-6)


def test_entropy_takes_the_smallest_reward_differences():
    context = make_context()
    chosen = EntropySelector().select(context, 5)
    expected = np.argsort(context.reward_differences.abs().numpy(), kind="stable")[:5]
    assert set(chosen) == set(expected)
