"""Logistic-regression coreset (Huggins, Campbell & Broderick, 2016) on the pairs' v = φ_a − φ_b.

As in the reference ``coreset_rule``: k-means of the v (K clusters, one k-means++ start, one Lloyd
iteration), then each pair's fast approximate sensitivity for parameters in the ball of radius R at
the origin,

    σ_k = N / (1 − e^{−R‖v_k − c_{a(k)}‖} + Σ_j |cluster j| e^{−R‖v_k − c_j‖}),

and pairs drawn with probability ∝ σ. The reference draws with replacement (duplicates become repeated
annotations); the default draws without replacement so the batch holds ``n`` distinct pairs.

k-means runs in torch on the selector's device: greedy k-means++ seeding (as scikit-learn's: 2 + ⌊ln K⌋
candidates per centre, the one that lowers the potential most is kept), one Lloyd step, then the pairs are
assigned to the moved centres. Distances are float32 through ‖x‖² + ‖c‖² − 2xᵀc (clamped at 0), an N × K
matrix, never N × K × h, with each row's ‖x‖² computed once. For k-means the trick's rounding (≈ 1e-7·‖v‖²)
can only move near-ties between clusters; the sensitivities redo the K distances in float64, ``CHUNK_ROWS``
rows at a time, since in float32 that rounding swamps a pair's small distance to its own centre (tight
clusters came out 1.6 % off N/|cluster|, the authors' float64 distances 1.4e-6 off).
"""

import math

import numpy as np
import torch

from benchmark.selectors.base import SelectionContext, Selector, require_explicit_pool

#: Rows widened to float64 at once for the sensitivities' distances (8 MB at h = 512).
CHUNK_ROWS = 2048


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
        differences = context.pair_differences
        centres, assignments = kmeans(differences, min(self.clusters, len(differences)), context.rng)
        return lr_sensitivities(differences, centres, assignments, self.radius).cpu().numpy()

    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        require_explicit_pool(context, "coreset")
        sensitivity = self.sensitivities(context)
        return context.rng.choice(len(sensitivity), size=n, replace=self.with_replacement,
                                  p=sensitivity / sensitivity.sum())


def squared_norms(data: torch.Tensor) -> torch.Tensor:
    return torch.linalg.vector_norm(data, dim=1).square_()


def squared_distances(data: torch.Tensor, norms: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """‖x − c‖² for every row and centre (N × K) by ‖x‖² + ‖c‖² − 2xᵀc, clamped at 0 against rounding."""
    cross = data @ centres.T
    return cross.mul_(-2).add_(norms[:, None]).add_(squared_norms(centres)).clamp_(min=0)


def kmeans_plus_plus(data: torch.Tensor, norms: torch.Tensor, clusters: int, rng: np.random.Generator) -> torch.Tensor:
    """Greedy k-means++ centres (K × h): each centre is the best of 2 + ⌊ln K⌋ draws ∝ squared distance."""
    trials = 2 + int(math.log(clusters))
    centres = data[int(rng.integers(len(data)))][None].clone()
    closest = squared_distances(data, norms, centres)[:, 0].double()
    for _ in range(1, clusters):
        cumulative = torch.cumsum(closest, 0)
        draws = torch.as_tensor(rng.random(trials), dtype=torch.float64, device=data.device) * cumulative[-1]
        candidates = torch.searchsorted(cumulative, draws).clamp_(max=len(data) - 1)
        trial_closest = torch.minimum(closest[:, None], squared_distances(data, norms, data[candidates]).double())
        best = int(torch.argmin(trial_closest.sum(0)))
        centres = torch.cat([centres, data[candidates[best]][None]])
        closest = trial_closest[:, best]
    return centres


def kmeans(
    data: torch.Tensor, clusters: int, rng: np.random.Generator, steps: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """k-means++ centres moved by up to ``steps`` Lloyd steps, and each row's nearest moved centre.

    The coreset rule takes one step (the reference's); the held-out prompt clusters of ``eval.split`` iterate until
    no row changes cluster. An empty cluster keeps its centre.
    """
    norms = squared_norms(data)
    centres = kmeans_plus_plus(data, norms, clusters, rng)
    assignments = torch.argmin(squared_distances(data, norms, centres), 1)
    for _ in range(steps):
        sums = torch.zeros_like(centres).index_add_(0, assignments, data)
        sizes = torch.bincount(assignments, minlength=clusters)
        centres = torch.where(sizes[:, None] > 0, sums / sizes.clamp(min=1)[:, None].to(data.dtype), centres)
        moved = torch.argmin(squared_distances(data, norms, centres), 1)
        if torch.equal(moved, assignments):
            break
        assignments = moved
    return centres, moved


def lr_sensitivities(
    data: torch.Tensor, centres: torch.Tensor, assignments: torch.Tensor, radius: float
) -> torch.Tensor:
    """Huggins et al.'s fast sensitivity bound: N / (1 − e^{−R d_own} + Σ_j size_j e^{−R d_j}), d = ‖x − c‖."""
    sizes = torch.bincount(assignments, minlength=len(centres)).double()
    wide = centres.double()

    def chunk_distances(rows: torch.Tensor) -> torch.Tensor:
        rows = rows.double()
        return squared_distances(rows, squared_norms(rows), wide)

    kernel = torch.exp(-radius * torch.cat([chunk_distances(rows) for rows in data.split(CHUNK_ROWS)]).sqrt_())
    own = kernel.gather(1, assignments[:, None])[:, 0]
    return len(data) / (1 - own + kernel @ sizes)
