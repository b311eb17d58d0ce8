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

#: Candidate pairs scored together: a CHUNK × target_pairs float64 table (512 KB at 256 targets) stays in cache.
CHUNK = 256


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

    The joint p(y_k = 1, y_t = 1) = mean_s p_sk q_st gives the other three cells from the marginals. Each block's
    cells live in four buffers made once (``out=``): fresh CHUNK × M tensors per cell cost more than the arithmetic.
    """
    samples = candidates.shape[0]
    target_mean = targets.mean(0)
    out = candidates.new_empty(candidates.shape[1])
    rows = min(CHUNK, candidates.shape[1])
    both, cell, logs, joint = (candidates.new_empty(rows, targets.shape[1]) for _ in range(4))
    for start in range(0, candidates.shape[1], CHUNK):
        block = candidates[:, start : start + CHUNK]
        size = block.shape[1]
        both_, cell_, logs_, joint_ = both[:size], cell[:size], logs[:size], joint[:size]
        mean = block.mean(0)[:, None]
        torch.matmul(block.T, targets, out=both_).div_(samples)
        torch.mul(both_, log_clamped(both_, logs_), out=joint_)  # Σ_cells x log x = −H of the joint
        add_xlogx(joint_, torch.sub(mean, both_, out=cell_), logs_)
        add_xlogx(joint_, torch.sub(target_mean, both_, out=cell_), logs_)
        add_xlogx(joint_, torch.sub(1 - mean, target_mean, out=cell_).add_(both_), logs_)
        out[start : start + size] = binary_entropy(mean[:, 0]) + joint_.mean(1)
    return out + binary_entropy(target_mean).mean()


def add_xlogx(joint: torch.Tensor, cells: torch.Tensor, scratch: torch.Tensor) -> None:
    """``joint`` += x log x of ``cells`` clamped at 0 (rounding can leave a cell at −1e-17), in place."""
    joint.addcmul_(cells.clamp_(min=0), log_clamped(cells, scratch))


def log_clamped(cells: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """log max(x, tiny) of cells x ≥ 0 into ``out``, so x · log stays 0 at x = 0 (log 0 = −∞ would make it NaN).

    torch's log is vectorised on CPU, where ``xlogy`` and ``entr`` call the scalar C log per element (about 7×
    slower on these blocks, the bulk of EPIG's time). The two logs differ in the last bit for a few elements in a
    thousand, so scores agree with the ``entr`` formulation to 1e-15, not bit for bit.
    """
    return torch.clamp(cells, min=torch.finfo(cells.dtype).tiny, out=out).log_()
