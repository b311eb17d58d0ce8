"""D-optimal selection on the last linear layer (the paper's method, facts.md §1.4-1.6).

Score of pool pair k = ∂ log det M(w) / ∂w_k at w = 1, with
M(w) = Σ_pool w_k p_k(1−p_k) v_k v_kᵀ + εI (+ the labelled pairs' Fisher for the past-aware variant).
In closed form that is p_k(1−p_k)·v_kᵀ M⁻¹ v_k; the top-n pairs are annotated. By the matrix
determinant lemma log(1 + score) is each pair's exact one-step log-det gain.
"""

import numpy as np
import torch

from benchmark.selectors.base import SelectionContext, Selector, top_n
from benchmark.selectors.fisher import bernoulli_variance, difference_gram, pair_gram, pair_leverage


class DOptimalSelector(Selector):
    """Top-n by D-optimal sensitivity.

    ``past_aware`` adds the labelled pairs' Fisher to M; ``weighted=False`` drops the p(1−p) weight
    (the reference ``XtX_rule``: design for least squares, exploration only).
    """

    def __init__(self, eps: float = 1e-6, past_aware: bool = False, weighted: bool = True):
        if eps <= 0:
            raise ValueError(f"eps must be positive, got {eps}")
        self.eps = eps
        self.past_aware = past_aware
        self.weighted = weighted

    def pair_weights(self, logits: torch.Tensor) -> torch.Tensor:
        """p(1−p) of each pair, or ones when unweighted."""
        return bernoulli_variance(logits) if self.weighted else torch.ones_like(logits)

    def information(self, context: SelectionContext, weights: torch.Tensor) -> torch.Tensor:
        """M = Σ_pool w vvᵀ + εI (+ Σ_labelled p(1−p)vvᵀ), float64; ``weights`` are the pool's p(1−p)."""
        features = context.features.double()
        first, second = context.pool_index
        information = pair_gram(features, first, second, weights)
        information += self.eps * torch.eye(features.shape[1], dtype=torch.float64, device=features.device)
        if self.past_aware:
            past = context.labelled_differences.double()
            information += difference_gram(past, self.pair_weights(past @ context.head.double()))
        return information

    def scores(self, context: SelectionContext) -> torch.Tensor:
        features = context.features.double()
        first, second = context.pool_index
        weights = self.pair_weights(context.reward_differences.double())
        return weights * pair_leverage(features, first, second, self.information(context, weights))

    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        return top_n(self.scores(context), n)
