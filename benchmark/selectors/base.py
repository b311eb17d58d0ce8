"""The selector interface: one object, one method, ``select(context, n) -> pool rows``."""

__all__ = ["SelectionContext", "Selector", "require_explicit_pool", "top_n"]

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from benchmark.errors import UserError
from benchmark.pools import CandidatePool
from benchmark.selectors.fisher import bernoulli_variance, difference_gram
from benchmark.selectors.guard import read_only, shared, tensor_versions
from benchmark.selectors.ranking import top_n


@dataclass
class SelectionContext:
    """Everything a selector may look at in one round.

    ``features`` are the current reward model's last-hidden-layer features φ of the pool's responses
    (R × h), ``head`` its bias-free last layer θ, so θᵀ(φ_a − φ_b) = r̂_a − r̂_b. Selectors combine
    per-response features through the pool's index arrays and never receive per-pair copies.

    Derived quantities are cached per context, so the selector and the batch diagnostics that share one
    context compute each of them once per round. ``labelled_features`` may hand in φ of the labelled
    responses when the caller already has them (training's final forward pass computes exactly these).

    Everything here is shared with the run, so none of it may be changed: ``labelled_pairs`` and ``labels`` are
    read-only views (a write raises :class:`SharedStateWrite` naming the attribute), and every tensor's version
    counter is noted when it is handed in or computed, so :meth:`written` names any tensor changed in place.
    """

    pool: CandidatePool
    features: torch.Tensor  # (R, h) float32
    head: torch.Tensor  # (h,) float32
    labelled_pairs: np.ndarray  # (L, 2) flat train ids of every labelled pair so far
    labels: np.ndarray  # (L,) 1 where the first response won
    featurize: Callable[[np.ndarray], torch.Tensor]  # flat train ids -> φ under the current model
    rng: np.random.Generator  # the selector's own stream
    labelled_features: torch.Tensor | None = None  # φ of np.unique(labelled_pairs) under the current model

    def __post_init__(self) -> None:
        self.labelled_pairs = read_only(self.labelled_pairs, "labelled_pairs")
        self.labels = read_only(self.labels, "labels")
        self._versions: dict[str, list[int]] = {}
        for name in ("features", "head", "labelled_features"):
            self._note(name, getattr(self, name))

    def _note(self, name: str, value: object) -> None:
        self._versions[name] = tensor_versions(value)

    def written(self) -> list[str]:
        """Names of the tensors changed in place since they were handed in or computed (none, for a selector that
        keeps to the contract)."""
        return [name for name, versions in self._versions.items() if tensor_versions(getattr(self, name)) != versions]

    @shared
    def rewards(self) -> torch.Tensor:
        """r̂ of each pool response (R,)."""
        return self.features @ self.head

    @shared
    def reward_differences(self) -> torch.Tensor:
        """r̂_a − r̂_b of each pool pair (N,); explicit pools only."""
        first, second = self.pool_index
        return self.rewards[first] - self.rewards[second]

    @shared
    def pair_differences(self) -> torch.Tensor:
        """v = φ_a − φ_b of every pool pair (N × h); explicit pools only. Shared: never modify it in place."""
        first, second = self.pool_index
        return self.features.index_select(0, first).sub_(self.features.index_select(0, second))

    @shared
    def pool_index(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(first, second) local indices of every pool pair; explicit pools only (an implicit one is not listed)."""
        _require_listed_pairs(self, "a selector that reads pool_index or reward_differences")
        device = self.features.device
        return (
            torch.as_tensor(self.pool.first, device=device),
            torch.as_tensor(self.pool.second, device=device),
        )

    @shared
    def labelled_differences(self) -> torch.Tensor:
        """φ_a − φ_b of every labelled pair (L, h), recomputed with the current model."""
        if len(self.labelled_pairs) == 0:
            return self.features.new_zeros((0, self.features.shape[1]))
        ids, inverse = np.unique(self.labelled_pairs, return_inverse=True)
        phi = self.featurize(ids) if self.labelled_features is None else self.labelled_features
        if len(phi) != len(ids):
            raise ValueError(f"labelled_features has {len(phi)} rows for {len(ids)} labelled responses")
        inverse = torch.as_tensor(inverse.reshape(-1, 2), device=phi.device)
        return phi[inverse[:, 0]] - phi[inverse[:, 1]]

    @shared
    def labelled_information(self) -> torch.Tensor:
        """Σ_labelled p(1−p) v vᵀ (h × h, float64): the labelled pairs' Fisher under the current model."""
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
