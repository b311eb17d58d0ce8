"""BALD (Houlsby et al., 2011): pairs whose label the last layer's posterior disagrees about most.

Score = I[y; θ] = H[E_θ p(y|θ)] − E_θ H[p(y|θ)], estimated with the posterior samples of
:mod:`benchmark.selectors.posterior`; the top-n pairs are annotated (one-shot, like ``dopt``).
"""

import numpy as np
import torch

from benchmark.selectors.base import SelectionContext, Selector, require_explicit_pool, top_n
from benchmark.selectors.posterior import LastLayerPosterior, PosteriorKind, binary_entropy, pair_probabilities


class BALDSelector(Selector):
    def __init__(self, posterior: PosteriorKind = "laplace", samples: int = 32, prior_precision: float | None = None):
        self.posterior = LastLayerPosterior(posterior, samples, prior_precision)

    def scores(self, context: SelectionContext) -> torch.Tensor:
        """Mutual information between each pool pair's label and θ (N,), in nats."""
        return mutual_information(pair_probabilities(context, self.posterior.sample(context)))

    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        require_explicit_pool(context, "bald")
        return top_n(self.scores(context), n)


def mutual_information(probabilities: torch.Tensor) -> torch.Tensor:
    """I[y; θ] per column of S × N Bernoulli probabilities, θ uniform over the S samples."""
    return binary_entropy(probabilities.mean(0)) - binary_entropy(probabilities).mean(0)
