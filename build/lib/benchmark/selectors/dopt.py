"""D-optimal selection on the last linear layer (the paper's method, docs/method.md §4).

Score of pool pair k = ∂ log det M(w) / ∂w_k at w = 1, with
M(w) = Σ_pool w_k p_k(1−p_k) v_k v_kᵀ + εI (+ the labelled pairs' Fisher for the past-aware variant).
In closed form that is p_k(1−p_k)·v_kᵀ M⁻¹ v_k; the top-n pairs are annotated. By the matrix
determinant lemma log(1 + score) is each pair's exact one-step log-det gain. On the implicit all-pairs
pool the same scores are computed exactly from per-response features, block by block.
"""

import numpy as np
import torch

from benchmark.selectors.allpairs import BlockScores, top_pairs
from benchmark.selectors.base import SelectionContext, Selector, top_n
from benchmark.selectors.fisher import (
    all_pairs_gram,
    all_pairs_leverage,
    bernoulli_variance,
    difference_gram,
    laplace_precision,
    pair_gram,
    pair_leverage,
)


class DOptimalSelector(Selector):
    """Top-n by D-optimal sensitivity.

    ``past_aware`` adds the labelled pairs' Fisher to M; ``weighted=False`` drops the p(1−p) weight
    (the reference ``XtX_rule``: design for least squares, exploration only).
    """
    implicit_pool = True

    def __init__(self, eps: float = 1e-6, past_aware: bool = False, weighted: bool = True):
        if eps <= 0:
            raise ValueError(f"eps must be positive, got {eps}")
        self.eps = eps
        self.past_aware = past_aware
        self.weighted = weighted

    def pair_weights(self, logits: torch.Tensor) -> torch.Tensor:
        """p(1−p) of each pair, or ones when unweighted."""
        return bernoulli_variance(logits) if self.weighted else torch.ones_like(logits)

    def pool_information(self, context: SelectionContext) -> torch.Tensor:
        """Σ_pool w vvᵀ (float64), over the listed pairs or over all pairs of an implicit pool."""
        features = context.features.double()
        if context.pool.implicit:
            rewards = context.rewards

            def weights(start: int, stop: int) -> torch.Tensor:
                return self.pair_weights((rewards[start:stop, None] - rewards[start:]).double())

            return all_pairs_gram(features, context.pool, weights)
        first, second = context.pool_index
        return pair_gram(features, first, second, self.pair_weights(context.reward_differences.double()))

    def information(self, context: SelectionContext) -> torch.Tensor:
        """M = Σ_pool w vvᵀ + εI (+ Σ_labelled p(1−p)vvᵀ), float64."""
        information = laplace_precision(self.pool_information(context), self.eps)
        if self.past_aware and self.weighted:
            information += context.labelled_information
        elif self.past_aware:
            information += difference_gram(context.labelled_differences.double(), None)
        return information

    def scores(self, context: SelectionContext) -> torch.Tensor:
        """Score of every listed pool pair (explicit pools)."""
        features = context.features.double()
        first, second = context.pool_index
        weights = self.pair_weights(context.reward_differences.double())
        return weights * pair_leverage(features, first, second, self.information(context))

    def block_scores(self, context: SelectionContext) -> BlockScores:
        """Scores of an implicit pool, one block of pairs at a time (see ``selectors.allpairs``)."""
        leverage = all_pairs_leverage(context.features.double(), self.information(context))
        rewards = context.rewards

        def scores(start: int, stop: int) -> torch.Tensor:
            return leverage(start, stop).mul_(self.pair_weights(rewards[start:stop, None] - rewards[start:]))

        return scores

    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        if context.pool.implicit:
            return top_pairs(context.pool, self.block_scores(context), n)
        return top_n(self.scores(context), n)
