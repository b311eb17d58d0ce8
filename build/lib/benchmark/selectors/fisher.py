"""Fisher information of the Bradley-Terry last layer, computed from per-response features.

For a pair with feature difference v = φ_a − φ_b and predicted win probability p, the Fisher
information of θ is p(1−p)·vvᵀ. Everything here works in chunks of pairs so memory stays O(chunk·h),
never O(pairs·h²), and in float64 because ε-regularised small eigenvalues vanish in float32. The implicit
all-pairs pool is handled through per-response quantities only (a graph Laplacian and a Gram matrix).
"""

import torch

from benchmark.pools import CandidatePool
from benchmark.selectors.allpairs import BlockScores, blocks, fill_invalid_

CHUNK_PAIRS = 8192

#: λ of the Gaussian prior on the last layer, N(0, λ⁻¹I): the ridge of the Laplace posterior's precision and of
#: the labelled-Fisher log det that the batch diagnostics report.
PRIOR_PRECISION = 1.0


def bernoulli_variance(logits: torch.Tensor) -> torch.Tensor:
    """p(1−p) for p = σ(logit), the weight that favours pairs with uncertain outcomes."""
    p = torch.sigmoid(logits)
    return p * (1 - p)


def laplace_precision(information: torch.Tensor, prior_precision: float = PRIOR_PRECISION) -> torch.Tensor:
    """λI + Fisher information (a new h × h tensor): the precision of θ's Gaussian (Laplace) posterior.

    With λ = ε it is also the D-optimal design matrix, εI being that design's vague prior.
    """
    precision = information.clone()
    precision.diagonal().add_(prior_precision)
    return precision


def pair_gram(
    features: torch.Tensor, first: torch.Tensor, second: torch.Tensor, weights: torch.Tensor | None
) -> torch.Tensor:
    """Σ_k w_k v_k v_kᵀ over pairs (h × h), with v_k = features[first_k] − features[second_k].

    Computed as the weighted graph Laplacian Φᵀ(D − A − Aᵀ)Φ of the pairs: O(N·h + R·h²) instead of
    O(N·h²), a pool's R responses being far fewer than its N pairs (in-prompt: R = N / 4.5).
    """
    weights = torch.ones(len(first), dtype=features.dtype, device=features.device) if weights is None else weights
    degree = features.new_zeros(len(features)).index_add_(0, first, weights).index_add_(0, second, weights)
    neighbours = torch.zeros_like(features)
    for start in range(0, len(first), CHUNK_PAIRS):
        stop = start + CHUNK_PAIRS
        neighbours.index_add_(0, first[start:stop], features[second[start:stop]] * weights[start:stop, None])
    cross = features.T @ neighbours
    return (features * degree[:, None]).T @ features - cross - cross.T


def difference_gram(differences: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """Σ_k w_k v_k v_kᵀ for explicit difference rows (h × h)."""
    weighted = differences if weights is None else differences * weights[:, None]
    return weighted.T @ differences


def pair_leverage(
    features: torch.Tensor, first: torch.Tensor, second: torch.Tensor, information: torch.Tensor
) -> torch.Tensor:
    """v_kᵀ M⁻¹ v_k for every pair, via one Cholesky factor: ‖L⁻¹φ_a − L⁻¹φ_b‖²."""
    factor = torch.linalg.cholesky(information)
    whitened = torch.linalg.solve_triangular(factor, features.T, upper=False).T
    out = features.new_empty(len(first))
    for start in range(0, len(first), CHUNK_PAIRS):
        stop = start + CHUNK_PAIRS
        out[start:stop] = (whitened[first[start:stop]] - whitened[second[start:stop]]).square().sum(1)
    return out


def all_pairs_gram(features: torch.Tensor, pool: CandidatePool, weights: BlockScores) -> torch.Tensor:
    """Σ w_ab v vᵀ over the selectable pairs of an implicit pool (h × h), with v = φ_a − φ_b.

    Equals Φᵀ(diag(W·1) − W)Φ, a weighted graph Laplacian, so it is built from one block of W at a time
    (``weights(start, stop)``; excluded pairs get weight 0): the degrees W·1 and the cross term Φᵀ W Φ.
    Φ is centred first: that leaves every difference unchanged but stops the two terms from cancelling.
    """
    centred = features - features.mean(0)
    degree = features.new_zeros(len(features))
    cross = features.new_zeros((features.shape[1], features.shape[1]))
    for start, stop in blocks(len(features)):
        block = fill_invalid_(weights(start, stop), pool, start, stop, 0.0)
        degree[start:stop] += block.sum(1)
        degree[start:] += block.sum(0)
        cross += centred[start:stop].T @ (block @ centred[start:])
    return (centred.T * degree) @ centred - cross - cross.T


def all_pairs_leverage(features: torch.Tensor, information: torch.Tensor) -> BlockScores:
    """Block function of v_abᵀ M⁻¹ v_ab over all pairs, as G_aa + G_bb − 2G_ab with G = ΦM⁻¹Φᵀ.

    The factor and the whitened features z = L⁻¹φ are float64; the block products z_a·z_b are float32
    (centring keeps ‖z‖² the size of the leverage, so the subtraction loses little).
    """
    centred = features - features.mean(0)
    factor = torch.linalg.cholesky(information)
    whitened = torch.linalg.solve_triangular(factor, centred.T, upper=False).T
    norms = whitened.square().sum(1).float()
    single = whitened.float()

    def leverage(start: int, stop: int) -> torch.Tensor:
        out = single[start:stop] @ single[start:].T
        return out.mul_(-2).add_(norms[start:stop, None]).add_(norms[None, start:])

    return leverage
