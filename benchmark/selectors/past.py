"""Fisher information of the already-labelled pairs under the current model (facts.md §1.5).

Shared by the selectors that condition on what is already known: greedy past-aware D-optimal design
starts from it, and the Laplace posterior of BALD / BatchBALD uses it as the likelihood's curvature.
"""

import torch

from benchmark.selectors.base import SelectionContext
from benchmark.selectors.fisher import bernoulli_variance, difference_gram


def past_information(context: SelectionContext) -> torch.Tensor:
    """Σ_labelled p(1−p) v vᵀ (h × h, float64), with v and p recomputed under the current model."""
    past = context.labelled_differences.double()
    return difference_gram(past, bernoulli_variance(past @ context.head.double()))
