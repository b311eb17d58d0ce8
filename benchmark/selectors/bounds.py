"""Per-response confidence bounds, the one input of the dueling selectors of ActiveUltraFeedback.

Melikidze, Schneider, Lam, Wertich, Hakimi, Pásztor & Krause, "ActiveUltraFeedback: efficient preference
data generation using active learning", arXiv:2603.09692 (2026), compare acquisition rules that see each
response only through a predicted reward μ and a confidence interval [μ − w, μ + w]. Here μ and the
posterior standard deviation σ of r = φᵀθ come from the run's last-layer posterior (``selectors.posterior``:
Laplace exactly by default, or the bootstrap ensemble's members), and w = β·σ. Because every rule reads per-response
quantities only, each serves the implicit all-pairs pool; rewards of responses to different prompts are
on one Bradley-Terry scale, so a cross-prompt pool is simply one set of R responses.

Rules that score pairs (``deltaucb``, ``infomax``) pick as the authors do on in-prompt pools — each prompt's
best pair, prompts in a random order (``selectors.queries``) — and on any other pool the top-n pairs, which
is the same as n queries over all the pool's responses since the scores do not change within a round.
"""

from collections.abc import Callable

import numpy as np
import torch

from benchmark.selectors.allpairs import top_pairs
from benchmark.selectors.base import SelectionContext, Selector
from benchmark.selectors.posterior import LaplacePosterior, Posterior
from benchmark.selectors.queries import AvailablePairs, query_batch
from benchmark.selectors.ranking import top_n

#: Score of pairs from (μ_a, μ_b, w_a, w_b), broadcasting; symmetric in a and b.
PairScore = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


class ConfidenceBoundSelector(Selector):
    """A selector that reads per-response means μ and half-widths w = β·σ (subclasses say how it picks)."""

    implicit_pool = True

    def __init__(self, beta: float = 1.0, posterior: Posterior | None = None):
        if not beta >= 0:
            raise ValueError(f"beta must be zero or positive, got {beta}")
        self.beta = beta
        self.posterior = posterior or LaplacePosterior()  # the run's ``posterior`` group

    def bounds(self, context: SelectionContext) -> tuple[np.ndarray, np.ndarray]:
        """(μ, w) of every pool response (R,), float64: the interval is [μ − w, μ + w]."""
        mean, std = self.posterior.reward_moments(context)
        return mean.cpu().numpy(), self.beta * std.cpu().numpy()


def select_by_pair_score(context: SelectionContext, n: int, mean: np.ndarray, width: np.ndarray,
                         score: PairScore) -> np.ndarray:
    """``n`` rows by a pair score: per prompt in turn on in-prompt pools, else the top n (module docstring)."""
    mu, w = torch.as_tensor(mean), torch.as_tensor(width)
    pool = context.pool
    if pool.implicit:
        return top_pairs(pool, lambda start, stop: score(mu[start:stop, None], mu[None, start:],
                                                         w[start:stop, None], w[None, start:]), n)
    first, second = (torch.as_tensor(index) for index in (pool.first, pool.second))
    scores = score(mu[first], mu[second], w[first], w[second]).numpy()
    if not pool.within_prompts:
        return top_n(scores, n)
    pair_prompt = pool.prompt_of_response[pool.first]
    prompt = pool.prompt_of_response

    def best_of_prompt(candidates: np.ndarray, pairs: AvailablePairs) -> int:
        rows = np.flatnonzero((pair_prompt == prompt[candidates[0]]) & pairs.available)
        return int(rows[np.argmax(scores[rows])])

    return query_batch(context, n, best_of_prompt)
