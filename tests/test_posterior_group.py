"""The posterior as its own config group: every Bayesian selector of a run gets the run's posterior, and each
posterior's spread is calibrated on its own (it matches the sampling spread of the fitted θ)."""

import numpy as np
import pytest
import torch

from benchmark.pairings import IN_PROMPT
from benchmark.pools import build_pool
from benchmark.runner import build_selector
from benchmark.selectors import SelectionContext
from benchmark.selectors.posterior import EnsemblePosterior, LaplacePosterior, fit_ridge_heads
from benchmark.spec import RunSpec
from tests.conftest import compose_config

BAYESIAN = ("bald", "batchbald", "epig", "bal_pm", "double_ts")


@pytest.mark.parametrize("name", BAYESIAN)
def test_every_bayesian_selector_gets_the_run_s_posterior(name):
    default = build_selector(RunSpec.from_config(compose_config(f"selector={name}")))
    assert type(default.posterior) is LaplacePosterior and default.posterior.samples == 32
    chosen = build_selector(RunSpec.from_config(compose_config(f"selector={name}", "posterior=ensemble",
                                                               "posterior.samples=7", "posterior.prior_precision=2")))
    assert type(chosen.posterior) is EnsemblePosterior
    assert (chosen.posterior.samples, chosen.posterior.prior_precision) == (7, 2.0)


def test_other_selectors_take_no_posterior():
    assert not hasattr(build_selector(RunSpec.from_config(compose_config("selector=dopt", "posterior=ensemble"))),
                       "posterior")


def labelled_context(theta: np.ndarray, pairs: int, seed: int) -> SelectionContext:
    """A context whose labelled pairs are Bradley-Terry labels of random features under ``theta``, and whose head is
    their ridge fit (the θ̂ the Laplace posterior is centred on)."""
    rng = np.random.default_rng(seed)
    h = len(theta)
    phi = torch.as_tensor(rng.normal(size=(2 * pairs, h)))
    labelled = np.arange(2 * pairs).reshape(-1, 2)
    v = phi[labelled[:, 0]] - phi[labelled[:, 1]]
    labels = (rng.random(pairs) < 1 / (1 + np.exp(-(v.numpy() @ theta)))).astype(np.int8)
    head = fit_ridge_heads(v, torch.as_tensor(labels, dtype=torch.float64), torch.ones(1, pairs), 1.0)[0]
    pool = build_pool(np.arange(2), 2, IN_PROMPT, None, np.zeros(0, np.int64), 2 * pairs, rng)
    return SelectionContext(pool=pool, features=phi[:4], head=head, labelled_pairs=labelled, labels=labels,
                            featurize=lambda ids: phi[torch.as_tensor(ids)], rng=np.random.default_rng(seed + 1))


def test_laplace_and_ensemble_spreads_match_the_sampling_spread_of_theta():
    theta = np.array([1.0, -0.5, 0.25])
    # The spread of θ̂ itself over fresh label draws: what a calibrated posterior's spread should be.
    fits = np.stack([labelled_context(theta, 800, seed).head.numpy() for seed in range(40)])
    truth = fits.std(axis=0)
    context = labelled_context(theta, 800, 1000)
    laplace = LaplacePosterior(samples=4000).sample(context).numpy().std(axis=0)
    ensemble = EnsemblePosterior(samples=200).sample(context).numpy().std(axis=0)
    np.testing.assert_allclose(laplace, truth, rtol=0.35)
    np.testing.assert_allclose(ensemble, truth, rtol=0.35)
    np.testing.assert_allclose(ensemble, laplace, rtol=0.25)
