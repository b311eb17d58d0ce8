"""Posteriors of the last layer θ, shared by the Bayesian selectors (bald, batchbald, epig, bal_pm, double_ts and the
confidence-bound ones: deltaucb, infomax, drts, maxminlcb, rucb).

The reward model is a point estimate; these selectors need p(y | pair, θ) under several plausible θ. The ``posterior``
config group picks how, by ``_target_``, for every one of them:

* ``laplace`` (:class:`LaplacePosterior`): θ ~ N(θ̂, (λI + Σ_labelled p(1−p)vvᵀ)⁻¹), the Gaussian whose precision is
  the prior's plus the labelled pairs' Fisher at θ̂. Its spread is the D-optimal criterion's own matrix, so BALD
  under it is close to D-opt (docs/assumptions.md).
* ``ensemble`` (:class:`EnsemblePosterior`): a bootstrap ensemble (query by bagging): each member is the λ-ridge
  Bradley-Terry head fitted to convergence (damped Newton) on its own resample (with replacement) of the labelled
  pairs, features held fixed. Its spread comes from resampling the labels, not from a curvature at θ̂, so it is the
  baseline independent of the Fisher-information family.

A new posterior is one :class:`Posterior` subclass and one YAML in conf/posterior/.
"""

from abc import ABC, abstractmethod

import numpy as np
import torch
from omegaconf import DictConfig

from benchmark.config import instantiate_checked
from benchmark.errors import UserError
from benchmark.selectors.base import SelectionContext
from benchmark.selectors.fisher import PRIOR_PRECISION, bernoulli_variance, difference_gram, laplace_precision

#: Damped Newton for the ensemble members: at most this many steps, stopping once a step is this small
#: (relative to θ); each step halves at most MAX_HALVINGS times until the Armijo condition holds.
NEWTON_STEPS = 50
NEWTON_TOLERANCE = 1e-10
MAX_HALVINGS = 30
ARMIJO = 1e-4


class Posterior(ABC):
    """Draws ``samples`` last-layer parameter vectors θ given one round's selection context."""

    def __init__(self, samples: int = 32, prior_precision: float | None = None):
        if samples < 2:
            raise ValueError(f"samples must be at least 2, got {samples}")
        self.samples = samples
        self.prior_precision = PRIOR_PRECISION if prior_precision is None else prior_precision
        if self.prior_precision <= 0:
            raise ValueError(f"prior_precision must be positive, got {self.prior_precision}")

    @abstractmethod
    def sample(self, context: SelectionContext, count: int | None = None) -> torch.Tensor:
        """(count, h) float64 draws of θ (``count`` None = ``samples``), from ``context.rng``."""

    def reward_moments(self, context: SelectionContext) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and standard deviation of each pool response's reward r = φᵀθ (R,), float64: here the ``samples``
        draws' mean and (population) standard deviation; a posterior with a closed form overrides it."""
        rewards = context.features.double() @ self.sample(context).T
        return rewards.mean(1), rewards.std(1, correction=0)


class LaplacePosterior(Posterior):
    """N(θ̂, (λI + labelled Fisher)⁻¹)."""

    def sample(self, context: SelectionContext, count: int | None = None) -> torch.Tensor:
        h, count = context.features.shape[1], count or self.samples
        precision = laplace_precision(context.labelled_information, self.prior_precision)
        noise = torch.as_tensor(context.rng.standard_normal((h, count)), device=precision.device)
        # Cov = (L Lᵀ)⁻¹ = L⁻ᵀ L⁻¹, so L⁻ᵀ z has the posterior covariance.
        spread = torch.linalg.solve_triangular(torch.linalg.cholesky(precision).T, noise, upper=True)
        return context.head.double() + spread.T

    def reward_moments(self, context: SelectionContext) -> tuple[torch.Tensor, torch.Tensor]:
        """Exactly, without sampling: φᵀθ̂ and √(φᵀP⁻¹φ), P the Laplace precision."""
        features = context.features.double()
        precision = laplace_precision(context.labelled_information, self.prior_precision)
        whitened = torch.linalg.solve_triangular(torch.linalg.cholesky(precision), features.T, upper=False)
        return features @ context.head.double(), whitened.square().sum(0).sqrt()


class EnsemblePosterior(Posterior):
    """Bootstrap ridge heads, one per member, on resamples of the labelled pairs."""

    def sample(self, context: SelectionContext, count: int | None = None) -> torch.Tensor:
        differences = context.labelled_differences.double()
        wins = torch.as_tensor(context.labels.astype("float64"), device=differences.device)  # a copy: read-only labels
        labelled = len(wins)
        if labelled == 0:
            raise UserError("posterior=ensemble needs labelled pairs to fit its members; use posterior=laplace")
        resamples = context.rng.multinomial(labelled, np.full(labelled, 1.0 / labelled), size=count or self.samples)
        counts = torch.as_tensor(resamples, dtype=torch.float64, device=differences.device)
        return fit_ridge_heads(differences, wins, counts, self.prior_precision)


def build_posterior(node: DictConfig) -> Posterior:
    """The ``posterior`` group's object, checked to be a :class:`Posterior`."""
    posterior = instantiate_checked(node, "posterior")
    if not isinstance(posterior, Posterior):
        raise UserError(f"posterior._target_={node.get('_target_')} is not a benchmark.selectors.posterior.Posterior; "
                        "subclass it and implement sample(context, count)")
    return posterior


def fit_ridge_heads(
    differences: torch.Tensor, wins: torch.Tensor, counts: torch.Tensor, prior_precision: float
) -> torch.Tensor:
    """θ_m = argmin f_m(θ) = Σ_i counts[m, i]·BCE(wins_i, σ(θᵀv_i)) + λ/2‖θ‖², one row per member.

    Damped Newton from θ = 0: plain Newton can overshoot and diverge on nearly separable
    labels (h large, few distinct pairs in a resample), so each member halves its step until f decreases.
    """
    members, h = counts.shape[0], differences.shape[1]
    heads = differences.new_zeros((members, h))
    value = ridge_objective(heads, differences, wins, counts, prior_precision)
    for _ in range(NEWTON_STEPS):
        logits = heads @ differences.T
        gradient = (counts * (torch.sigmoid(logits) - wins)) @ differences + prior_precision * heads
        curvature = counts * bernoulli_variance(logits)
        hessians = torch.stack([laplace_precision(difference_gram(differences, weight), prior_precision)
                                for weight in curvature])
        # The Hessians are SPD (λI + a Fisher): Cholesky is the stable solve. Batched LU failed on this torch build
        # ("pivots given to lu_solve must all be >= 1") for well-conditioned 512 x 512 Hessians.
        step = torch.cholesky_solve(gradient[..., None], torch.linalg.cholesky(hessians))[..., 0]
        if step.abs().max() <= NEWTON_TOLERANCE * (1 + heads.abs().max()):
            return heads - step
        scale = torch.ones(members, dtype=torch.float64, device=heads.device)
        for _ in range(MAX_HALVINGS):
            trial = heads - scale[:, None] * step
            trial_value = ridge_objective(trial, differences, wins, counts, prior_precision)
            # The slack lets rounding-level changes of f pass once Newton has converged to them.
            slack = 1e-12 * value.abs()
            enough = trial_value <= value - ARMIJO * scale * (gradient * step).sum(1) + slack
            if enough.all():
                break
            scale = torch.where(enough, scale, scale / 2)
        heads, value = trial, trial_value
    return heads


def ridge_objective(
    heads: torch.Tensor, differences: torch.Tensor, wins: torch.Tensor, counts: torch.Tensor, prior_precision: float
) -> torch.Tensor:
    """f_m of every member (see :func:`fit_ridge_heads`)."""
    logits = heads @ differences.T
    loss = torch.nn.functional.softplus(logits) - wins * logits
    return (counts * loss).sum(1) + prior_precision / 2 * heads.square().sum(1)


def pair_probabilities(context: SelectionContext, heads: torch.Tensor) -> torch.Tensor:
    """p(first wins | θ_s) for every sample and pool pair (S × N, float64), via per-response rewards."""
    rewards = context.features.double() @ heads.T
    first, second = context.pool_index
    return torch.sigmoid(rewards[first] - rewards[second]).T.contiguous()


def binary_entropy(p: torch.Tensor) -> torch.Tensor:
    """H of a Bernoulli(p) in nats, 0 at p ∈ {0, 1}."""
    return torch.special.entr(p) + torch.special.entr(1 - p)
