"""EPIG (Bickford Smith et al., 2023): pairs whose label tells most about the labels of typical train pairs.

BALD scores the information a label carries about θ, including directions of θ no prediction we care
about depends on. EPIG scores the information about predictions instead:

    EPIG(k) = E_{t ~ targets} I[y_k; y_t],   I[y_k; y_t] = H(y_k) + H(y_t) − H(y_k, y_t),

where θ is uniform over S posterior samples (the same ``laplace`` / ``ensemble`` posteriors as ``bald``), so
p(y_k, y_t) = mean_s p(y_k | θ_s) p(y_t | θ_s): the paper's estimator for classification. Target pairs are
drawn from the whole train split (never the test split) with ``context.rng``: two responses of one random
train prompt when the pool is in-prompt, two random train responses otherwise (``target_setup``). Because
y_k and y_t are independent given θ, EPIG(k) ≤ BALD(k) for every pair. The top-n pairs are annotated.
"""

from typing import Literal

import numpy as np
import torch

from benchmark.selectors.base import SelectionContext, Selector, require_explicit_pool, top_n
from benchmark.selectors.posterior import LaplacePosterior, Posterior, binary_entropy, pair_probabilities

TargetSetup = Literal["pool", "in_prompt", "cross_prompt"]

#: Candidate pairs scored together: CHUNK × target_pairs float64 joint tables stay a few MB.
CHUNK = 2048


class EPIGSelector(Selector):
    def __init__(
        self,
        posterior: Posterior | None = None,
        target_pairs: int = 256,
        target_setup: TargetSetup = "pool",
    ):
        if target_pairs < 1:
            raise ValueError(f"target_pairs must be at least 1, got {target_pairs}")
        if target_setup not in ("pool", "in_prompt", "cross_prompt"):
            raise ValueError(f"target_setup must be 'pool', 'in_prompt' or 'cross_prompt', got {target_setup!r}")
        self.posterior = posterior or LaplacePosterior()  # the run's ``posterior`` group, handed in by the runner
        self.target_pairs = target_pairs
        self.target_setup = target_setup

    def targets(self, context: SelectionContext) -> np.ndarray:
        """(target_pairs, 2) flat train ids of the target pairs, drawn from ``context.rng``."""
        pool = context.pool
        total, k = pool.train_responses, pool.responses_per_prompt
        if total is None:
            raise ValueError("epig needs pool.train_responses (the train split's size); build pools with build_pool")
        in_prompt = pool.within_prompts if self.target_setup == "pool" else self.target_setup == "in_prompt"
        count = self.target_pairs
        if in_prompt:
            prompt = context.rng.integers(total // k, size=count)
            first, second = distinct_pair(context.rng, k, count)
            return np.stack([prompt * k + first, prompt * k + second], axis=1)
        return np.stack(distinct_pair(context.rng, total, count), axis=1)

    def probabilities(self, context: SelectionContext) -> tuple[torch.Tensor, torch.Tensor]:
        """p(first wins | θ_s) of the pool pairs (S × N) and of the target pairs (S × M), float64: posterior samples
        first, then targets, from ``context.rng``."""
        heads = self.posterior.sample(context)
        candidates = pair_probabilities(context, heads)
        ids, inverse = np.unique(self.targets(context), return_inverse=True)
        rewards = context.featurize(ids).double() @ heads.T
        inverse = torch.as_tensor(inverse.reshape(-1, 2), device=rewards.device)
        return candidates, torch.sigmoid(rewards[inverse[:, 0]] - rewards[inverse[:, 1]]).T

    def scores(self, context: SelectionContext) -> torch.Tensor:
        """EPIG of every pool pair (N,), in nats."""
        return expected_information(*self.probabilities(context))

    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        require_explicit_pool(context, "epig")
        return top_n(self.scores(context), n)


def distinct_pair(rng: np.random.Generator, size: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` uniform ordered pairs of distinct integers in [0, size)."""
    first = rng.integers(size, size=count)
    second = rng.integers(size - 1, size=count)
    return first, second + (second >= first)


def expected_information(candidates: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """mean_t I[y_k; y_t] for each column k of S × N ``candidates``, over the S × M ``targets``, θ uniform over S.

    The joint p(y_k = 1, y_t = 1) = mean_s p_sk q_st gives the other three cells from the marginals.
    """
    samples = candidates.shape[0]
    target_mean = targets.mean(0)
    out = candidates.new_empty(candidates.shape[1])
    for start in range(0, candidates.shape[1], CHUNK):
        block = candidates[:, start : start + CHUNK]
        mean = block.mean(0)[:, None]
        both = block.T @ targets / samples
        # Σ_cells x log x (= −H of the joint), with xlogy: on CPU it is faster than entr and exactly its negation.
        joint = torch.xlogy(both, both)
        joint += torch.xlogy(cell := (mean - both).clamp_(min=0), cell, out=cell)
        joint += torch.xlogy(cell := (target_mean - both).clamp_(min=0), cell, out=cell)
        joint += torch.xlogy(cell := (1 - mean - target_mean + both).clamp_(min=0), cell, out=cell)
        out[start : start + CHUNK] = binary_entropy(mean[:, 0]) + joint.mean(1)
    return out + binary_entropy(target_mean).mean()
