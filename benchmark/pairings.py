"""Pairings: which pairs of a round's responses are candidates, one strategy object per ``setup``.

A pairing is a linear index space of pairs among a round's R = prompts × K responses (local indices, prompt-major):
its size, how an index unranks to a pair ``(first < second)``, which already-labelled pairs fall inside it, and the
pool size a cap leaves. The pool builder (:mod:`benchmark.pools`) samples indices of the space and unranks them, so
a pairing never lists its pairs. A pairing may be made of parts, each sampled with its own share of the cap
(``mixed``). The ``setup`` config group picks one by ``_target_``; its ``pairing`` key is the setup's name (labels,
plots, W&B tags) and must be the class's ``name``.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
from omegaconf import DictConfig, OmegaConf

from benchmark.config import instantiate_checked
from benchmark.errors import UserError


def triangle_size(n: int) -> int:
    """C(n, 2): pairs ``first < second`` among ``n`` items."""
    return n * (n - 1) // 2


def rank_triangle(first: np.ndarray, second: np.ndarray, n: int) -> np.ndarray:
    """Linear row-major upper-triangle rank of pairs ``first < second`` among ``n`` items."""
    first, second = np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64)
    return first * n - first * (first + 1) // 2 + second - first - 1


def unrank_triangle(index: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(first, second) of row-major upper-triangle ranks among ``n`` items (the inverse of :func:`rank_triangle`)."""
    # Row i starts at i*n - i*(i+1)/2; invert with the quadratic formula, then fix float rounding.
    total = triangle_size(n)
    i = (n - 2 - np.floor(np.sqrt(-8.0 * index + 4.0 * n * (n - 1) - 7) / 2.0 - 0.5)).astype(np.int64)
    start = i * n - i * (i + 1) // 2
    i = np.where(index < start, i - 1, i)
    start = i * n - i * (i + 1) // 2
    over = index >= start + (n - 1 - i)
    i = np.where(over, i + 1, i)
    start = i * n - i * (i + 1) // 2
    assert np.all((index >= 0) & (index < total))
    return i, index - start + i + 1


class Pairing(ABC):
    """One setup's space of candidate pairs among a round's responses."""

    #: The setup's name (``setup.pairing``), as labels, plots and W&B tags show it.
    name: str = ""
    #: Whether the space is every pair among the round's responses, so an uncapped pool of it can be kept implicit.
    all_pairs: bool = False

    @abstractmethod
    def space_size(self, prompts: int, k: int) -> int:
        """Number of distinct pairs a round of ``prompts`` prompts with ``k`` responses each offers."""

    @abstractmethod
    def unrank(self, index: np.ndarray, prompts: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Local (first, second) response indices of linear pair indices, ``first < second``."""

    @abstractmethod
    def includes(self, first: np.ndarray, second: np.ndarray, k: int) -> np.ndarray:
        """Which pairs of responses (flat or local ids of one round, ``k`` per prompt) the space holds."""

    def parts(self, cap: int | None) -> list[tuple["Pairing", int | None]]:
        """The spaces a pool is sampled from, each with its cap: by default this space with the whole cap."""
        return [(self, cap)]

    def pool_size(self, prompts: int, k: int, cap: int | None) -> int:
        """Pairs in a round's pool before labelled ones are removed: each part's space, at most its cap."""
        sizes = [(part.space_size(prompts, k), part_cap) for part, part_cap in self.parts(cap)]
        return sum(space if part_cap is None else min(part_cap, space) for space, part_cap in sizes)

    def check_cap(self, cap: int | None) -> None:  # noqa: B027 (most pairings take any cap)
        """Raise ValueError when the pairing cannot work with ``cap`` (``mixed`` needs one)."""


@dataclass(frozen=True)
class InPrompt(Pairing):
    """Two responses to the same prompt: the C(K, 2) pairs inside each prompt."""

    name = "in_prompt"

    def space_size(self, prompts: int, k: int) -> int:
        return prompts * triangle_size(k)

    def unrank(self, index: np.ndarray, prompts: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        prompt, within = np.divmod(np.asarray(index, dtype=np.int64), triangle_size(k))
        i, j = unrank_triangle(within, k)
        return prompt * k + i, prompt * k + j

    def includes(self, first: np.ndarray, second: np.ndarray, k: int) -> np.ndarray:
        return np.asarray(first) // k == np.asarray(second) // k


@dataclass(frozen=True)
class CrossPrompt(Pairing):
    """Any two responses among the round's prompts (same-prompt pairs included, as in the reference code)."""

    name = "cross_prompt"
    all_pairs = True

    def space_size(self, prompts: int, k: int) -> int:
        return triangle_size(prompts * k)

    def unrank(self, index: np.ndarray, prompts: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        return unrank_triangle(np.asarray(index, dtype=np.int64), prompts * k)

    def includes(self, first: np.ndarray, second: np.ndarray, k: int) -> np.ndarray:
        return np.ones(np.shape(first), dtype=bool)


@dataclass(frozen=True)
class BetweenPrompts(Pairing):
    """Two responses to different prompts only (the cross-prompt part of ``mixed``).

    Index order is row-major over the upper triangle with same-prompt pairs left out: response i = p·K + r has the
    R − (p + 1)·K partners of later prompts, and the rows of prompt p start at K·(p·R − K·p(p + 1)/2).
    """

    name = "between_prompts"

    def space_size(self, prompts: int, k: int) -> int:
        return triangle_size(prompts * k) - prompts * triangle_size(k)

    def unrank(self, index: np.ndarray, prompts: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        index = np.asarray(index, dtype=np.int64)
        responses = prompts * k
        p = np.arange(prompts + 1, dtype=np.int64)
        starts = k * (p * responses - k * p * (p + 1) // 2)
        prompt = np.searchsorted(starts, index, side="right") - 1
        row_length = responses - (prompt + 1) * k
        row, offset = np.divmod(index - starts[prompt], np.maximum(row_length, 1))
        return prompt * k + row, (prompt + 1) * k + offset

    def includes(self, first: np.ndarray, second: np.ndarray, k: int) -> np.ndarray:
        return np.asarray(first) // k != np.asarray(second) // k


IN_PROMPT, CROSS_PROMPT = InPrompt(), CrossPrompt()


@dataclass(frozen=True)
class Mixed(Pairing):
    """One pool of ``cross_fraction`` × cap pairs of responses to different prompts, the rest in-prompt pairs.

    Each part is sampled uniformly from its own space (without the labelled pairs), so the pool holds the stated
    share of cross-prompt pairs whatever the sizes of the two spaces; it needs a cap (``candidates_per_round``).
    """

    cross_fraction: float = 0.5
    name = "mixed"

    def __post_init__(self) -> None:
        if not 0 <= self.cross_fraction <= 1:
            raise ValueError(f"cross_fraction={self.cross_fraction} must lie in [0, 1]")

    def check_cap(self, cap: int | None) -> None:
        if cap is None:
            raise ValueError("setup=mixed splits the pool by a share of candidates_per_round, which is null; set "
                             "candidates_per_round to a number (e.g. 4500)")

    def parts(self, cap: int | None) -> list[tuple[Pairing, int | None]]:
        self.check_cap(cap)
        assert cap is not None
        cross = int(cap * self.cross_fraction + 0.5)
        return [(IN_PROMPT, cap - cross), (BetweenPrompts(), cross)]

    def space_size(self, prompts: int, k: int) -> int:
        return triangle_size(prompts * k)

    def unrank(self, index: np.ndarray, prompts: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """In-prompt pairs first, then the pairs between prompts (the space is every pair once)."""
        index = np.asarray(index, dtype=np.int64)
        inside = IN_PROMPT.space_size(prompts, k)
        first_in, second_in = IN_PROMPT.unrank(np.minimum(index, inside - 1), prompts, k)
        first_x, second_x = BetweenPrompts().unrank(np.maximum(index - inside, 0), prompts, k)
        within = index < inside
        return np.where(within, first_in, first_x), np.where(within, second_in, second_x)

    def includes(self, first: np.ndarray, second: np.ndarray, k: int) -> np.ndarray:
        return np.ones(np.shape(first), dtype=bool)


#: The shipped setups, one instance each (their defaults): the dashboard's views, the property tests' pairings.
SHIPPED: tuple[Pairing, ...] = (IN_PROMPT, CROSS_PROMPT, Mixed())


def build_pairing(setup: DictConfig, cap: int | None) -> Pairing:
    """The ``setup`` node's pairing, checked: a Pairing, named as ``setup.pairing`` says, usable with ``cap``."""
    node = OmegaConf.masked_copy(setup, [key for key in setup if key != "pairing"])
    pairing = instantiate_checked(node, "setup")
    target = setup.get("_target_")
    if not isinstance(pairing, Pairing):
        raise UserError(f"setup._target_={target} is not a benchmark.pairings.Pairing; subclass it")
    if setup.get("pairing") != pairing.name:
        raise UserError(f"setup.pairing={setup.get('pairing')} but setup._target_={target} is the pairing "
                        f"{pairing.name!r}; choose a setup with setup=NAME (conf/setup/), which sets both")
    try:
        pairing.check_cap(cap)
    except ValueError as err:
        raise UserError(str(err)) from err
    return pairing
