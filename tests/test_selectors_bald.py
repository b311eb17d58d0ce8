"""BALD and its last-layer posteriors against independent computations."""

import numpy as np
import pytest
import torch
from scipy.optimize import minimize
from scipy.special import expit, rel_entr

from benchmark import diagnostics
from benchmark.selectors import BALDSelector
from benchmark.selectors.posterior import EnsemblePosterior, LaplacePosterior, fit_ridge_heads
from tests.test_dopt import make_context


def explicit_pairs(context):
    phi = context.features.double().numpy()
    return phi[context.pool.first] - phi[context.pool.second]


def labelled_precision(context, prior_precision):
    """λI + Σ_labelled p(1−p)vvᵀ by an explicit loop over the labelled pairs."""
    theta = context.head.double().numpy()
    precision = prior_precision * np.eye(len(theta))
    for v in context.labelled_differences.double().numpy():
        p = expit(v @ theta)
        precision += p * (1 - p) * np.outer(v, v)
    return precision


@pytest.mark.parametrize("posterior", [LaplacePosterior, EnsemblePosterior])
def test_bald_is_the_mutual_information_under_the_same_samples(posterior):
    context = make_context(n_responses=16, h=4, n_pairs=50, n_labelled=12, seed=2)
    context.labels = (np.arange(12) % 3 != 0).astype(np.int8)
    selector = BALDSelector(posterior(samples=64))
    context.rng = np.random.default_rng(7)
    ours = selector.scores(context).numpy()
    context.rng = np.random.default_rng(7)
    heads = selector.posterior.sample(context).numpy()
    p = expit(explicit_pairs(context) @ heads.T)  # (N, S), each pair's v explicit
    mean = p.mean(1, keepdims=True)
    # I[y; θ] = E_θ KL(p(y|θ) ‖ p(y)), summed over both outcomes.
    reference = (rel_entr(p, mean) + rel_entr(1 - p, 1 - mean)).mean(1)
    np.testing.assert_allclose(ours, reference, rtol=1e-9, atol=1e-12)
    context.rng = np.random.default_rng(7)
    assert set(selector.select(context, 5)) == set(np.argsort(-reference)[:5])


def test_laplace_samples_have_the_laplace_moments():
    context = make_context(n_responses=12, h=3, n_pairs=20, n_labelled=8, seed=4)
    heads = LaplacePosterior(samples=40_000, prior_precision=0.5).sample(context).numpy()
    covariance = np.linalg.inv(labelled_precision(context, 0.5))
    scale = np.sqrt(np.diag(covariance))
    np.testing.assert_allclose(heads.mean(0), context.head.double().numpy(), atol=0.03 * scale.max())
    np.testing.assert_allclose(np.cov(heads.T), covariance, atol=0.03 * scale.max() ** 2)


def test_prior_precision_defaults_to_the_diagnostics_lambda():
    assert LaplacePosterior().prior_precision == EnsemblePosterior().prior_precision == diagnostics.PRIOR_PRECISION


def test_bald_is_half_the_past_aware_dopt_score_when_the_posterior_is_tight():
    # Linearised BALD: I ≈ ½ p(1−p) vᵀ Σ v with Σ = (λI + I_past)⁻¹ (docs/assumptions.md).
    context = make_context(n_responses=20, h=4, n_pairs=60, n_labelled=6, seed=1)
    ours = BALDSelector(LaplacePosterior(samples=20_000, prior_precision=100.0)).scores(context).numpy()
    v = explicit_pairs(context)
    p = expit(v @ context.head.double().numpy())
    linear = 0.5 * p * (1 - p) * np.einsum("ki,ij,kj->k", v, np.linalg.inv(labelled_precision(context, 100.0)), v)
    np.testing.assert_allclose(ours, linear, rtol=0.15)
    assert np.corrcoef(ours, linear)[0, 1] > 0.99


def test_ensemble_members_are_the_resampled_ridge_fits():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(30, 3))
    wins = (rng.random(30) < expit(v @ np.array([1.0, -2.0, 0.5]))).astype(float)
    counts = rng.multinomial(30, np.full(30, 1 / 30), size=4).astype(float)
    heads = fit_ridge_heads(torch.as_tensor(v), torch.as_tensor(wins), torch.as_tensor(counts), 0.7).numpy()
    for member, weight in zip(heads, counts, strict=True):

        def objective(theta, weight=weight):
            logits = v @ theta
            return weight @ (np.logaddexp(0, logits) - wins * logits) + 0.35 * theta @ theta

        reference = minimize(objective, np.zeros(3), method="BFGS", options={"gtol": 1e-10}).x
        np.testing.assert_allclose(member, reference, atol=1e-6)
    assert np.ptp(heads, axis=0).min() > 1e-3  # resampling makes the members differ


def test_ensemble_fit_converges_where_plain_newton_diverges():
    # A nearly separable resample with a weak prior: undamped Newton from 0 ends with a gradient of ~1e2 here.
    rng = np.random.default_rng(46)
    h, count = int(rng.integers(5, 60)), int(rng.integers(5, 80))
    prior_precision = 10 ** rng.uniform(-3, 0)
    v = np.maximum(rng.normal(size=(count, h)), 0) * 10 ** rng.uniform(-0.5, 1.5)
    wins = (rng.random(count) < 0.5).astype(float)
    counts = rng.multinomial(count, np.full(count, 1 / count), size=4).astype(float)
    heads = fit_ridge_heads(torch.as_tensor(v), torch.as_tensor(wins), torch.as_tensor(counts), prior_precision)
    heads.requires_grad_()
    logits = heads @ torch.as_tensor(v).T
    objective = torch.as_tensor(counts) * (torch.nn.functional.softplus(logits) - torch.as_tensor(wins) * logits)
    (objective.sum() + prior_precision / 2 * heads.square().sum()).backward()
    assert heads.grad.abs().max() < 1e-6
