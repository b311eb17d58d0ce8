"""The selector interface: one object, one method, ``select(context, n) -> pool rows``."""

__all__ = ["SelectionContext", "Selector", "require_explicit_pool", "top_n"]

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import torch

from benchmark.errors import UserError
from benchmark.pools import CandidatePool
from benchmark.selectors.fisher import bernoulli_variance, difference_gram
from benchmark.selectors.ranking import top_n


@dataclass
class SelectionContext:
    """Everything a selector may look at in one round.

    ``features`` are the current reward model's last-hidden-layer features φ of the pool's responses
    (R × h), ``head`` its bias-free last layer θ, so θᵀ(φ_a − φ_b) = r̂_a − r̂_b. Selectors combine
    per-response features through the pool's index arrays and never receive per-pair copies.

    Derived quantities are cached per context, so the selector and the batch diagnostics that share one
    context compute each of them once per round. Each attribute's entry says its shape and dtype, the pools it
    exists for (a *listed* pool names its pairs; the *implicit* all-pairs pool of ``candidates_per_round=null``
    does not) and what its first access costs; docs/extending.md is generated from them.
    """

    pool: CandidatePool = field(metadata={"doc": """
        The round's candidate pairs.

        shape: ``pool.response_ids`` (R,) int64 flat train ids (``prompt * K + k``, sorted); ``pool.first``,
        ``pool.second`` (N,) int64 local response indices with first < second (empty for an implicit pool);
        ``len(pool)`` = N rows; ``pool.implicit``; ``pool.excluded`` (sorted ranks already labelled, implicit only)
        pools: listed and implicit
        first access: free (given)
    """})
    features: torch.Tensor = field(metadata={"doc": """
        φ of each pool response under the current model.

        shape: (R, h) float32, on the reward model's device; row i is response ``pool.response_ids[i]``
        pools: listed and implicit
        first access: free (one forward pass of the R responses, made before ``select`` whether read or not)
    """})
    head: torch.Tensor = field(metadata={"doc": """
        The bias-free last layer θ: r̂ = φ·θ.

        shape: (h,) float32, on the reward model's device
        pools: listed and implicit
        first access: free (given; detached, do not modify)
    """})
    labelled_pairs: np.ndarray = field(metadata={"doc": """
        Every pair labelled so far, round 0 included, in labelling order.

        shape: (L, 2) int64 flat train ids
        pools: listed and implicit
        first access: free (given)
    """})
    labels: np.ndarray = field(metadata={"doc": """
        The annotator's label of each labelled pair: 1 where the first response won.

        shape: (L,) int8
        pools: listed and implicit
        first access: free (given)
    """})
    featurize: Callable[[np.ndarray], torch.Tensor] = field(metadata={"doc": """
        φ of any train responses under the current model.

        shape: (m,) int64 flat train ids -> (m, h) float32 tensor on the reward model's device
        pools: listed and implicit
        first access: one forward pass of the m responses per call (not cached)
    """})
    rng: np.random.Generator = field(metadata={"doc": """
        The selector's own random stream, seeded by (seed, round).

        shape: a numpy Generator
        pools: listed and implicit
        first access: free (given); draws from it never shift any other stream
    """})
    labelled_features: torch.Tensor | None = field(metadata={"doc": """
        φ of the labelled responses, when training computed them.

        shape: (U, h) float32, rows in ``np.unique(labelled_pairs)`` order (U distinct responses); or None
        pools: listed and implicit
        first access: free; read ``labelled_differences`` instead, which falls back to ``featurize``
    """}, default=None)

    @cached_property
    def rewards(self) -> torch.Tensor:
        """r̂ of each pool response.

        shape: (R,) float32
        pools: listed and implicit
        first access: one (R × h) matrix-vector product; cached
        """
        return self.features @ self.head

    @cached_property
    def reward_differences(self) -> torch.Tensor:
        """r̂_a − r̂_b of each pool pair.

        shape: (N,) float32
        pools: listed only (an implicit pool raises a UserError naming the fix)
        first access: ``rewards`` plus two gathers of N; cached
        """
        first, second = self.pool_index
        return self.rewards[first] - self.rewards[second]

    @cached_property
    def pair_differences(self) -> torch.Tensor:
        """v = φ_a − φ_b of every pool pair. Shared with the batch diagnostics: never modify it in place.

        shape: (N, h) float32
        pools: listed only (an implicit pool raises a UserError naming the fix)
        first access: allocates N × h floats (4·N·h bytes: 23 MB at N = 22 500, h = 256); cached
        """
        first, second = self.pool_index
        return self.features.index_select(0, first).sub_(self.features.index_select(0, second))

    @cached_property
    def pool_index(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(first, second) local response indices of every pool pair, as a tuple of two index tensors.

        shape: two (N,) int64 tensors on the reward model's device; ``features[first]`` is φ_a of each pair
        pools: listed only (an implicit pool raises a UserError naming the fix)
        first access: copies ``pool.first``/``pool.second`` to the device; cached
        """
        _require_listed_pairs(self, "a selector that reads pool_index or reward_differences")
        device = self.features.device
        return (
            torch.as_tensor(self.pool.first, device=device),
            torch.as_tensor(self.pool.second, device=device),
        )

    @cached_property
    def labelled_differences(self) -> torch.Tensor:
        """φ_a − φ_b of every labelled pair, recomputed with the current model (rows follow ``labelled_pairs``).

        shape: (L, h) float32 (zero rows before any label)
        pools: listed and implicit
        first access: free if ``labelled_features`` was handed in (training's last pass), else one forward pass
        of the distinct labelled responses; then a gather of L × h; cached
        """
        if len(self.labelled_pairs) == 0:
            return self.features.new_zeros((0, self.features.shape[1]))
        ids, inverse = np.unique(self.labelled_pairs, return_inverse=True)
        phi = self.featurize(ids) if self.labelled_features is None else self.labelled_features
        if len(phi) != len(ids):
            raise ValueError(f"labelled_features has {len(phi)} rows for {len(ids)} labelled responses")
        inverse = torch.as_tensor(inverse.reshape(-1, 2), device=phi.device)
        return phi[inverse[:, 0]] - phi[inverse[:, 1]]

    @cached_property
    def labelled_information(self) -> torch.Tensor:
        """Σ_labelled p(1−p) v vᵀ: the labelled pairs' Fisher information under the current model.

        shape: (h, h) float64
        pools: listed and implicit
        first access: ``labelled_differences`` plus O(L·h²); cached
        """
        past = self.labelled_differences.double()
        return difference_gram(past, bernoulli_variance(past @ self.head.double()))


class Selector(ABC):
    """Chooses which pool pairs to annotate.

    Subclasses implement :meth:`select`; constructor parameters come from the selector's YAML and
    are checked against the signature, so no registry or schema needs editing.
    """

    #: True when the returned rows may repeat (an annotator labels a repeated pair again).
    allows_repeats: bool = False
    #: True when ``select`` serves the implicit all-pairs pool (``context.pool.implicit``: rows are pair ranks,
    #: no pair is listed). A run whose rounds have such a pool refuses other selectors before round 0.
    implicit_pool: bool = False

    @abstractmethod
    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        """Return ``n`` row indices into ``context.pool``, distinct unless ``allows_repeats``."""


def require_explicit_pool(context: SelectionContext, selector: str) -> None:
    """Stop with a fix for selectors that need the pool's pairs listed (not the implicit all-pairs pool)."""
    _require_listed_pairs(context, f"selector {selector!r}")


def _require_listed_pairs(context: SelectionContext, who: str) -> None:
    if context.pool.implicit:
        raise UserError(
            f"{who} needs an explicit candidate pool, but candidates_per_round=null gave the implicit "
            f"pool of all {len(context.pool)} cross-prompt pairs; set candidates_per_round to a number (e.g. 22500)"
        )
