"""BAL-PM (Melo et al., 2024): epistemic uncertainty plus the entropy gain of the acquired prompts.

Uncertainty alone keeps acquiring pairs of the same few uncertain prompts. BAL-PM adds to BALD's
I[y; θ] a bonus for prompts that lie where the acquired prompts (every labelled pair's, plus this batch's
picks so far) are sparse, and picks greedily, one pair at a time:

    score(k) = I[y_k; θ] + β · mean_{p ∈ prompts(k)} [ log(2 r_p + 10⁻⁴) − ψ(n_p + 1) / d ],

the authors' per-point term of a Kozachenko-Leonenko / KSG k-nearest-neighbour entropy estimate: r_p is the
distance from prompt p to its k-th nearest other prompt of the pool (the unlabelled pool fixes the scale)
and n_p the number of acquired prompts (with repeats) within r_p; ψ is the digamma function. After each
pick its prompts join the acquired set, so n grows and the bonus of nearby prompts falls.

Stand-ins for this benchmark: the data hold response embeddings only, so a prompt's feature is the mean φ
of its K responses under the current model; an in-prompt pair has one prompt, a cross-prompt pair two
(the bonus averages their terms and a pick acquires both). Cost: O(N) per pick after O(P·Q·h) distances
between the P pool prompts and the Q pool-or-labelled prompts, so the greedy loop is cheap.
"""

import numpy as np
import torch

from benchmark.selectors.bald import mutual_information
from benchmark.selectors.base import SelectionContext, Selector, require_explicit_pool
from benchmark.selectors.posterior import LastLayerPosterior, PosteriorKind, pair_probabilities

#: Added to 2r inside the log, as in the authors' code, so coincident prompts give a finite term.
DISTANCE_OFFSET = 1e-4


class BALPMSelector(Selector):
    def __init__(
        self,
        posterior: PosteriorKind = "laplace",
        samples: int = 32,
        beta: float = 0.01,
        neighbours: int = 13,
        dimension: float = 1.0,
        prior_precision: float | None = None,
    ):
        if beta < 0 or neighbours < 1 or dimension <= 0:
            raise ValueError(
                f"need beta >= 0, neighbours >= 1 and dimension > 0, got {beta}, {neighbours}, {dimension}"
            )
        self.posterior = LastLayerPosterior(posterior, samples, prior_precision)
        self.beta = beta
        self.neighbours = neighbours
        self.dimension = dimension

    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        require_explicit_pool(context, "bal_pm")
        information = mutual_information(pair_probabilities(context, self.posterior.sample(context)))
        prompts = PromptDensity(context, self.neighbours)
        first, second = context.pool_index
        local = torch.as_tensor(prompts.local, device=information.device)
        prompt_a, prompt_b = local[first], local[second]
        same = prompt_a == prompt_b
        available = torch.ones_like(information, dtype=torch.bool)
        rows = np.empty(n, dtype=np.int64)
        for step in range(n):
            term = prompts.entropy_terms(self.dimension)
            bonus = torch.where(same, term[prompt_a], (term[prompt_a] + term[prompt_b]) / 2)
            score = torch.where(available, information + self.beta * bonus, -torch.inf)
            row = int(torch.argmax(score))
            rows[step], available[row] = row, False
            prompts.acquire(int(prompt_a[row]))
            if not same[row]:
                prompts.acquire(int(prompt_b[row]))
        return rows


class PromptDensity:
    """k-NN radii of the pool's prompts and the count of acquired prompts inside each radius."""

    def __init__(self, context: SelectionContext, neighbours: int):
        pool = context.pool
        k = pool.responses_per_prompt
        ids, self.local = np.unique(pool.prompt_of_response, return_inverse=True)
        local = torch.as_tensor(self.local, device=context.features.device)
        features = context.features.double()
        sums = features.new_zeros((len(ids), features.shape[1])).index_add_(0, local, features)
        pool_features = sums / torch.bincount(local, minlength=len(ids))[:, None]

        # Acquired prompts so far: each labelled pair's distinct prompts, repeats counted.
        labelled = np.asarray(context.labelled_pairs).reshape(-1, 2) // k
        acquired = np.concatenate([labelled[:, 0], labelled[:, 1][labelled[:, 1] != labelled[:, 0]]])
        acquired, counts = np.unique(acquired, return_counts=True)
        in_pool = np.isin(acquired, ids)
        outside = acquired[~in_pool]
        candidates = pool_features
        if len(outside):  # prompts of the pool keep the pool's features, so equal prompts give equal distances
            flat = (outside[:, None] * k + np.arange(k)).reshape(-1)
            other = context.featurize(flat).double().reshape(len(outside), k, -1).mean(1)
            candidates = torch.cat([pool_features, other.to(pool_features.device)])
        column = np.where(in_pool, np.searchsorted(ids, acquired), len(ids) + np.searchsorted(outside, acquired))
        self.counts = features.new_zeros(len(candidates))
        self.counts[torch.as_tensor(column, device=features.device)] = torch.as_tensor(
            counts, dtype=torch.float64, device=features.device
        )
        self.distances = torch.cdist(pool_features, candidates)  # P × Q
        self.radius = knn_radius(self.distances[:, : len(ids)], neighbours)
        self.inside = (self.distances <= self.radius[:, None]).double() @ self.counts  # n_p

    def acquire(self, prompt: int) -> None:
        """Add pool prompt ``prompt`` to the acquired set."""
        self.inside += (self.distances[:, prompt] <= self.radius).double()

    def entropy_terms(self, dimension: float) -> torch.Tensor:
        """log(2 r_p + offset) − ψ(n_p + 1) / d for every pool prompt (P,)."""
        return torch.log(2 * self.radius + DISTANCE_OFFSET) - torch.special.digamma(self.inside + 1) / dimension


def knn_radius(distances: torch.Tensor, neighbours: int) -> torch.Tensor:
    """Distance from each of P points to its k-th nearest other point (k clipped to P − 1; 0 when P = 1)."""
    count = distances.shape[0]
    if count < 2:
        return distances.new_zeros(count)
    others = distances + torch.diag(distances.new_full((count,), torch.inf))
    return torch.kthvalue(others, min(neighbours, count - 1), dim=1).values
