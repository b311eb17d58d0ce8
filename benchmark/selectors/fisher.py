"""Fisher information of the Bradley-Terry last layer, computed from per-response features.

For a pair with feature difference v = φ_a − φ_b and predicted win probability p, the Fisher
information of θ is p(1−p)·vvᵀ. Everything here works in chunks of pairs so memory stays O(chunk·h),
never O(pairs·h²), and in float64 because ε-regularised small eigenvalues vanish in float32.
"""

import torch

CHUNK_PAIRS = 8192


def bernoulli_variance(logits: torch.Tensor) -> torch.Tensor:
    """p(1−p) for p = σ(logit), the weight that favours pairs with uncertain outcomes."""
    p = torch.sigmoid(logits)
    return p * (1 - p)


def pair_gram(
    features: torch.Tensor, first: torch.Tensor, second: torch.Tensor, weights: torch.Tensor | None
) -> torch.Tensor:
    """Σ_k w_k v_k v_kᵀ over pairs (h × h), with v_k = features[first_k] − features[second_k]."""
    h = features.shape[1]
    gram = features.new_zeros((h, h))
    for start in range(0, len(first), CHUNK_PAIRS):
        stop = start + CHUNK_PAIRS
        v = features[first[start:stop]] - features[second[start:stop]]
        weighted = v if weights is None else v * weights[start:stop, None]
        gram += weighted.T @ v
    return gram


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
