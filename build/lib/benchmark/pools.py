"""Candidate pools: which pairs of a round's responses a selector may choose from.

A pool is index arrays into the round's responses, never copies of embeddings per pair, so a pool of
millions of pairs costs a few bytes per pair. Pools are drawn from a linear index space of pairs
(in-prompt: all C(K,2) pairs inside each prompt; cross-prompt: all pairs among the round's
responses, same-prompt pairs included as in the reference code) and capped by uniform sampling.

An uncapped cross-prompt pool of at least ``IMPLICIT_MIN_PAIRS`` pairs is *implicit*: its rows are the
linear upper-triangle ranks of all C(R,2) pairs among the R responses, never listed (12.5 M pairs for the
paper's 5,000 responses), and the labelled pairs among them are kept as sorted excluded ranks. Smaller
uncapped pools stay explicit, so selectors that need the pairs listed keep working on them (e.g. the toy).
"""

from dataclasses import dataclass, field

import numpy as np

from benchmark.config import Pairing

#: Smallest uncapped cross-prompt pool that is kept implicit (about 1,415 responses); read at call time.
IMPLICIT_MIN_PAIRS = 1_000_000


@dataclass(frozen=True)
class CandidatePool:
    """Pairs ``(first[k], second[k])`` of local response indices, ``first < second``.

    ``response_ids[i]`` is the flat train id (``prompt * K + k``) of local response ``i``; ids are sorted,
    so local order and global order agree. An ``implicit`` pool has empty ``first``/``second``: its rows
    are the upper-triangle ranks of all pairs among the R responses, minus the sorted ranks ``excluded``
    (already labelled), which no selector may return.
    """

    response_ids: np.ndarray  # (R,) int64
    first: np.ndarray  # (N,) int64
    second: np.ndarray  # (N,) int64
    responses_per_prompt: int
    implicit: bool = False
    excluded: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # sorted ranks
    train_responses: int | None = None  # size of the flat train id space (prompts × K), when known

    def __len__(self) -> int:
        """Number of rows; for an implicit pool C(R,2), excluded rows included."""
        if self.implicit:
            return _triangle_size(len(self.response_ids))
        return len(self.first)

    @property
    def prompt_of_response(self) -> np.ndarray:
        return self.response_ids // self.responses_per_prompt

    @property
    def within_prompts(self) -> bool:
        """Whether every pair joins two responses of one prompt (an in-prompt pool); an implicit pool never does."""
        prompt = self.prompt_of_response
        return not self.implicit and bool(np.all(prompt[self.first] == prompt[self.second]))

    def local_pairs(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Local (first, second) response indices of the pool rows ``rows``."""
        rows = np.asarray(rows, dtype=np.int64)
        if self.implicit:
            return _unrank_triangle(rows, len(self.response_ids))
        return self.first[rows], self.second[rows]

    def global_pairs(self, rows: np.ndarray) -> np.ndarray:
        """(n, 2) flat train ids of the pool rows ``rows``."""
        first, second = self.local_pairs(rows)
        return np.stack([self.response_ids[first], self.response_ids[second]], axis=1)

    def is_excluded(self, rows: np.ndarray) -> np.ndarray:
        """Which ``rows`` are already-labelled pairs of an implicit pool (never for an explicit one)."""
        return _contains(self.excluded, np.asarray(rows, dtype=np.int64))

    def sample_rows(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` distinct selectable rows uniformly at random, sorted.

        Implicit pools draw ``n + excluded`` rows and drop the excluded ones, so nothing of size C(R,2)
        is allocated; explicit pools draw exactly as ``rng.choice(len(pool), n)``.
        """
        size = min(n + len(self.excluded), len(self))
        rows = rng.choice(len(self), size=size, replace=False)
        rows = rows[~self.is_excluded(rows)][:n]
        if len(rows) < n:
            raise ValueError(f"the pool has {len(rows)} selectable pairs, fewer than the {n} requested")
        return np.sort(rows)


def pair_space_size(prompts: int, responses_per_prompt: int, pairing: Pairing) -> int:
    """Number of distinct pairs a round with ``prompts`` prompts offers."""
    k = responses_per_prompt
    if pairing is Pairing.in_prompt:
        return prompts * k * (k - 1) // 2
    r = prompts * k
    return r * (r - 1) // 2


def is_implicit(space: int, pairing: Pairing, cap: int | None, min_pairs: int | None = None) -> bool:
    """Whether a round's pool of ``space`` pairs is kept implicit: uncapped cross-prompt, at least
    ``min_pairs`` (default ``IMPLICIT_MIN_PAIRS``, read at call time) pairs."""
    threshold = IMPLICIT_MIN_PAIRS if min_pairs is None else min_pairs
    return cap is None and pairing is Pairing.cross_prompt and space >= threshold


def unrank_pairs(index: np.ndarray, prompts: int, k: int, pairing: Pairing) -> tuple[np.ndarray, np.ndarray]:
    """Local (first, second) of linear pair indices, row-major over the upper triangle."""
    index = np.asarray(index, dtype=np.int64)
    if pairing is Pairing.in_prompt:
        per_prompt = k * (k - 1) // 2
        prompt, within = np.divmod(index, per_prompt)
        i, j = _unrank_triangle(within, k)
        return prompt * k + i, prompt * k + j
    return _unrank_triangle(index, prompts * k)


def rank_triangle(first: np.ndarray, second: np.ndarray, n: int) -> np.ndarray:
    """Linear row-major upper-triangle rank of pairs ``first < second`` among ``n`` items."""
    first, second = np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64)
    return first * n - first * (first + 1) // 2 + second - first - 1


def _triangle_size(n: int) -> int:
    return n * (n - 1) // 2


def _unrank_triangle(index: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    # Row i starts at i*n - i*(i+1)/2; invert with the quadratic formula, then fix float rounding.
    total = _triangle_size(n)
    i = (n - 2 - np.floor(np.sqrt(-8.0 * index + 4.0 * n * (n - 1) - 7) / 2.0 - 0.5)).astype(np.int64)
    start = i * n - i * (i + 1) // 2
    i = np.where(index < start, i - 1, i)
    start = i * n - i * (i + 1) // 2
    over = index >= start + (n - 1 - i)
    i = np.where(over, i + 1, i)
    start = i * n - i * (i + 1) // 2
    assert np.all((index >= 0) & (index < total))
    return i, index - start + i + 1


def pair_keys(first: np.ndarray, second: np.ndarray, total_responses: int) -> np.ndarray:
    """One int64 per unordered pair of flat ids, for set membership tests."""
    low, high = np.minimum(first, second), np.maximum(first, second)
    return low.astype(np.int64) * total_responses + high


def sample_prompts(rng: np.random.Generator, total_prompts: int, count: int) -> np.ndarray:
    return np.sort(rng.choice(total_prompts, size=count, replace=False))


def build_pool(
    prompts: np.ndarray,
    responses_per_prompt: int,
    pairing: Pairing,
    cap: int | None,
    labelled_keys: np.ndarray,
    total_responses: int,
    rng: np.random.Generator,
    implicit_min_pairs: int | None = None,
) -> CandidatePool:
    """All pairs of the pairing among ``prompts``' responses, minus labelled ones, at most ``cap``.

    ``labelled_keys`` must be sorted. Capping draws ``cap + E`` pair indices without replacement
    (E = labelled pairs that fall in this round's space), drops the labelled ones, keeps ``cap``.
    An uncapped cross-prompt pool of at least ``implicit_min_pairs`` (default ``IMPLICIT_MIN_PAIRS``)
    pairs is returned implicit instead of listed.
    """
    k = responses_per_prompt
    response_ids = (prompts[:, None] * k + np.arange(k)).reshape(-1)
    space = pair_space_size(len(prompts), k, pairing)
    if is_implicit(space, pairing, cap, implicit_min_pairs):
        return implicit_pool(response_ids, k, labelled_keys, total_responses)
    excluded = _labelled_in_round(response_ids, k, pairing, labelled_keys, total_responses)
    if cap is None or cap + excluded >= space:
        index = np.arange(space, dtype=np.int64)
    else:
        index = np.sort(rng.choice(space, size=cap + excluded, replace=False))
    first, second = unrank_pairs(index, len(prompts), k, pairing)
    keys = pair_keys(response_ids[first], response_ids[second], total_responses)
    keep = ~_contains(labelled_keys, keys)
    first, second = first[keep], second[keep]
    if cap is not None and len(first) > cap:
        chosen = np.sort(rng.choice(len(first), size=cap, replace=False))
        first, second = first[chosen], second[chosen]
    return CandidatePool(response_ids, first, second, k, train_responses=total_responses)


def implicit_pool(
    response_ids: np.ndarray, responses_per_prompt: int, labelled_keys: np.ndarray, total_responses: int
) -> CandidatePool:
    """The unlisted pool of all pairs among ``response_ids`` (sorted), excluding the labelled ones."""
    low, high = np.divmod(labelled_keys, total_responses)
    inside = _contains(response_ids, low) & _contains(response_ids, high)
    first, second = np.searchsorted(response_ids, low[inside]), np.searchsorted(response_ids, high[inside])
    excluded = np.unique(rank_triangle(first, second, len(response_ids)))
    empty = np.zeros(0, dtype=np.int64)
    return CandidatePool(
        response_ids, empty, empty, responses_per_prompt, implicit=True, excluded=excluded,
        train_responses=total_responses,
    )


def _labelled_in_round(
    response_ids: np.ndarray, k: int, pairing: Pairing, labelled_keys: np.ndarray, total_responses: int
) -> int:
    low, high = np.divmod(labelled_keys, total_responses)
    inside = np.isin(low, response_ids) & np.isin(high, response_ids)
    if pairing is Pairing.in_prompt:
        inside &= low // k == high // k
    return int(np.count_nonzero(inside))


def _contains(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), dtype=bool)
    where = np.searchsorted(sorted_keys, keys).clip(max=len(sorted_keys) - 1)
    return sorted_keys[where] == keys
