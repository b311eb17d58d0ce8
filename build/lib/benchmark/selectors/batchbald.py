"""BatchBALD (Kirsch, van Amersfoort & Gal, 2019): a greedy batch maximising the joint mutual information.

a(A) = I[y_A; θ] = H(y_A) − Σ_{j∈A} E_θ H(y_j | θ), θ uniform over S posterior samples; each step adds the
pair k with the largest gain a(A ∪ {k}) − a(A) = H(y_k | y_A) − E_θ H(y_k | θ). H(y_k | y_A) comes from
label configurations ŷ_m of the picked pairs and their likelihoods p(ŷ_m | θ_s):

    H(y_k | y_A) = Σ_m α_m h₂(q_mk),   q_mk = p(y_k = 1 | ŷ_m) = mean_s p(ŷ_m | θ_s) p_s(k) / c_m,
    H(y_A) = −Σ_m α_m log c_m,           c_m = p(ŷ_m) = mean_s p(ŷ_m | θ_s),

with α_m = c_m while all 2^|A| configurations are enumerated (exact), and α_m = 1/M once there would be
more than ``configurations`` of them: then M = ``configurations`` ancestral draws (θ_s uniform, then
ŷ ~ p(· | θ_s)) are made once and extended by one label per pick. Rows are kept divided by c_m (log c_m
apart), so nothing underflows however long the batch.

Lazy evaluation: a(A) is submodular (Kirsch et al., 2019), so a pair's gain only shrinks as the batch
grows and its last computed gain bounds its current one. Each step evaluates candidates in blocks, in
order of that bound, until the best gain found beats the next bound — the same picks as evaluating every
pair (exactly so while configurations are enumerated; with drawn ones the bounds are estimates too), at a
fraction of the M × N work. Memory O(M·S + M·block): never S × N × 2^n.
"""

from dataclasses import dataclass

import numpy as np
import torch

from benchmark.selectors.base import SelectionContext, Selector, require_explicit_pool
from benchmark.selectors.posterior import LastLayerPosterior, PosteriorKind, binary_entropy, pair_probabilities

#: Candidates evaluated together in a lazy step: M × 256 float64 stays in cache.
CANDIDATE_BLOCK = 256
#: Floor of log p(y | θ), so a configuration impossible under one sample does not make 0·(−∞) = NaN.
LOG_FLOOR = -1e4


class BatchBALDSelector(Selector):
    def __init__(
        self,
        posterior: PosteriorKind = "laplace",
        samples: int = 32,
        configurations: int = 1000,
        prior_precision: float | None = None,
    ):
        if configurations < 2:
            raise ValueError(f"configurations must be at least 2, got {configurations}")
        self.posterior = LastLayerPosterior(posterior, samples, prior_precision)
        self.configurations = configurations

    def design(self, context: SelectionContext, n: int) -> tuple[np.ndarray, torch.Tensor]:
        """The ``n`` rows in pick order and the batch's joint mutual information after each pick."""
        probabilities = pair_probabilities(context, self.posterior.sample(context))
        return greedy_joint_information(probabilities, n, self.configurations, context.rng)

    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        require_explicit_pool(context, "batchbald")
        return self.design(context, n)[0]


@dataclass(frozen=True)
class Configurations:
    """Label configurations ŷ_m of the picked pairs, each with p(ŷ_m | θ_s) for every posterior sample."""

    likelihood: torch.Tensor  # (M, S): p(ŷ_m | θ_s) / c_m, so each row averages to 1
    log_mass: torch.Tensor  # (M,): log c_m, c_m = p(ŷ_m) under the S-sample posterior
    weight: torch.Tensor  # (M,): α_m, c_m when enumerated, 1/M when drawn
    drawn_with: np.ndarray | None  # (M,): the sample each drawn configuration came from; None when enumerated

    @classmethod
    def empty(cls, samples: int, device: torch.device) -> "Configurations":
        """No pair picked yet: one (empty) configuration of probability 1."""
        ones = torch.ones((1, samples), dtype=torch.float64, device=device)
        return cls(ones, ones.new_zeros(1), ones.new_ones(1), None)

    @classmethod
    def draw(cls, picked: torch.Tensor, count: int, rng: np.random.Generator) -> "Configurations":
        """``count`` ancestral draws of the labels of the picked pairs (``picked``: S × |A| probabilities)."""
        samples = picked.shape[0]
        drawn_with = rng.integers(samples, size=count)
        labels = torch.as_tensor(rng.random((count, picked.shape[1])) < picked.cpu().numpy()[drawn_with])
        labels = labels.to(device=picked.device, dtype=torch.float64)
        log_win, log_loss = picked.log().clamp(min=LOG_FLOOR), (1 - picked).log().clamp(min=LOG_FLOOR)
        log_likelihood = labels @ log_win.T + (1 - labels) @ log_loss.T
        log_mass = torch.logsumexp(log_likelihood, 1) - np.log(samples)
        likelihood = (log_likelihood - log_mass[:, None]).exp()
        return cls(likelihood, log_mass, log_mass.new_full((count,), 1.0 / count), drawn_with)

    def entropy(self) -> torch.Tensor:
        """H(y_A) of the picked pairs' labels, in nats."""
        return -(self.weight * self.log_mass).sum()

    def conditional_entropy(self, probabilities: torch.Tensor) -> torch.Tensor:
        """H(y_k | y_A) for every column k of ``probabilities`` (S × B), in nats."""
        conditional = (self.likelihood @ probabilities) / probabilities.shape[0]
        return self.weight @ binary_entropy(conditional.clamp_(0, 1))

    def extend(self, picked: torch.Tensor, limit: int, rng: np.random.Generator) -> "Configurations":
        """Add the last column of ``picked`` (S × |A|) to the configurations, enumerating while ≤ ``limit``."""
        if self.drawn_with is None and 2 * len(self.weight) <= limit:
            return self._enumerate(picked[:, -1])
        if self.drawn_with is None:
            return Configurations.draw(picked, limit, rng)
        return self._extend_draws(picked[:, -1], rng)

    def _enumerate(self, win: torch.Tensor) -> "Configurations":
        likelihood = torch.cat([self.likelihood * win, self.likelihood * (1 - win)])
        factor = likelihood.mean(1)
        keep = factor > 0
        log_mass = (self.log_mass.repeat(2) + factor.log())[keep]
        return Configurations(likelihood[keep] / factor[keep, None], log_mass, log_mass.exp(), None)

    def _extend_draws(self, win: torch.Tensor, rng: np.random.Generator) -> "Configurations":
        assert self.drawn_with is not None
        labels = torch.as_tensor(rng.random(len(self.drawn_with)) < win.cpu().numpy()[self.drawn_with])
        labels = labels.to(device=win.device)
        likelihood = self.likelihood * torch.where(labels[:, None], win, 1 - win)
        factor = likelihood.mean(1).clamp(min=torch.finfo(torch.float64).tiny)
        return Configurations(likelihood / factor[:, None], self.log_mass + factor.log(), self.weight, self.drawn_with)


def greedy_joint_information(
    probabilities: torch.Tensor, n: int, configurations: int, rng: np.random.Generator, block: int = CANDIDATE_BLOCK
) -> tuple[np.ndarray, torch.Tensor]:
    """BatchBALD's greedy batch from S × N probabilities p(y_k = 1 | θ_s); ties go to the lower row.

    Returns the rows in pick order and a(A) after each pick.
    """
    samples, total = probabilities.shape
    conditional = binary_entropy(probabilities).mean(0)
    state = Configurations.empty(samples, probabilities.device)
    bound = probabilities.new_full((total,), torch.inf)  # picked rows get −∞
    rows = np.empty(n, dtype=np.int64)
    information = probabilities.new_empty(n)
    value = 0.0
    for step in range(n):
        row, gain = lazy_best(state, probabilities, conditional, bound, block)
        rows[step], bound[row] = row, -torch.inf
        value += gain
        information[step] = value
        if step + 1 < n:
            picked = probabilities[:, torch.as_tensor(rows[: step + 1], device=probabilities.device)]
            state = state.extend(picked, configurations, rng)
    return rows, information


def lazy_best(
    state: Configurations, probabilities: torch.Tensor, conditional: torch.Tensor, bound: torch.Tensor, block: int
) -> tuple[int, float]:
    """The unpicked row with the largest gain, evaluating blocks in bound order; refreshes ``bound``."""
    available = int((bound > -torch.inf).sum())
    order = torch.argsort(bound, descending=True, stable=True)[:available]
    best_row, best_gain = -1, -torch.inf
    for start in range(0, len(order), block):
        columns = order[start : start + block]
        gains = state.conditional_entropy(probabilities[:, columns]) - conditional[columns]
        bound[columns] = gains
        top = float(gains.max())
        candidate = int(columns[gains == top].min())
        if top > best_gain or (top == best_gain and candidate < best_row):
            best_row, best_gain = candidate, top
        if start + block >= len(order) or best_gain > bound[order[start + block]]:
            break
    return best_row, best_gain
