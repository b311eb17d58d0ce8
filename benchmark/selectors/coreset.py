"""Logistic-regression coreset (Huggins, Campbell & Broderick, 2016) on the pairs' v = φ_a − φ_b.

As in the reference ``coreset_rule``: k-means of the v (K clusters, one k-means++ start, one Lloyd
iteration), then each pair's fast approximate sensitivity for parameters in the ball of radius R at
the origin,

    σ_k = N / (1 − e^{−R‖v_k − c_{a(k)}‖} + Σ_j |cluster j| e^{−R‖v_k − c_j‖}),

and pairs drawn with probability ∝ σ. The reference draws with replacement (duplicates become repeated
annotations); the default draws without replacement so the batch holds ``n`` distinct pairs.
"""

import numpy as np
from scipy.spatial.distance import cdist
from sklearn.cluster import KMeans

from benchmark.selectors.base import SelectionContext, Selector, require_explicit_pool


class CoresetSelector(Selector):
    def __init__(self, clusters: int = 10, radius: float = 1.0, with_replacement: bool = False):
        if clusters < 1 or radius <= 0:
            raise ValueError(f"need clusters >= 1 and radius > 0, got clusters={clusters}, radius={radius}")
        self.clusters = clusters
        self.radius = radius
        self.with_replacement = with_replacement
        self.allows_repeats = with_replacement

    def sensitivities(self, context: SelectionContext) -> np.ndarray:
        """σ_k of every pool pair (N,), after k-means seeded from ``context.rng``."""
        first, second = context.pool_index
        differences = (context.features[first] - context.features[second]).double().cpu().numpy()
        kmeans = KMeans(
            n_clusters=min(self.clusters, len(differences)), n_init=1, max_iter=1,
            random_state=int(context.rng.integers(2**31 - 1)),
        ).fit(differences)
        return lr_sensitivities(differences, kmeans.cluster_centers_, kmeans.labels_, self.radius)

    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        require_explicit_pool(context, "coreset")
        sensitivity = self.sensitivities(context)
        return context.rng.choice(len(sensitivity), size=n, replace=self.with_replacement,
                                  p=sensitivity / sensitivity.sum())


def lr_sensitivities(data: np.ndarray, centers: np.ndarray, assignments: np.ndarray, radius: float) -> np.ndarray:
    """Huggins et al.'s fast sensitivity bound: N / (1 − e^{−R d_own} + Σ_j size_j e^{−R d_j}), d = ‖x − c‖."""
    sizes = np.bincount(assignments, minlength=len(centers))
    kernel = np.exp(-radius * cdist(data, centers))
    own = kernel[np.arange(len(data)), assignments]
    return len(data) / (1 - own + kernel @ sizes)
