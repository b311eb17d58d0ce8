"""Greedy k-center against a loop over pairs with the sign-invariant distance min(‖v − u‖, ‖v + u‖)."""

import numpy as np
import pytest
import torch

from benchmark.pairings import CROSS_PROMPT, IN_PROMPT
from benchmark.selectors import kcenter
from tests.test_selectors_epig import check_contract, explicit_differences
from tests.test_selectors_properties import build, random_context


def reference_picks(pool: np.ndarray, covered: np.ndarray, n: int) -> list[int]:
    """Each step: the unpicked pool pair whose nearest covered pair (or v = 0 if none) is farthest."""
    covered = list(covered) or [np.zeros(pool.shape[1])]
    picks = []
    for _ in range(n):
        gaps = [
            -np.inf if k in picks else min(min(np.linalg.norm(v - u), np.linalg.norm(v + u)) for u in covered)
            for k, v in enumerate(pool)
        ]
        picks.append(int(np.argmax(gaps)))
        covered.append(pool[picks[-1]])
    return picks


def test_kcenter_meets_the_selector_contract():
    check_contract("kcenter", implicit_ok=False)


@pytest.mark.parametrize("pairing", [IN_PROMPT, CROSS_PROMPT])
def test_picks_follow_the_greedy_rule(pairing, monkeypatch):
    monkeypatch.setattr(kcenter, "CHUNK", 5)  # several chunks of labelled pairs
    for seed in range(3):
        context, _ = random_context(seed, pairing)
        ours = build("kcenter").select(context, 15)
        covered = context.labelled_differences.double().numpy()
        assert len(covered) > 5
        assert list(ours) == reference_picks(explicit_differences(context), covered, 15)


def test_without_labels_the_first_pick_is_the_longest_difference():
    context, _ = random_context(1, CROSS_PROMPT)
    context.labelled_pairs, context.labels = np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int8)
    ours = build("kcenter").select(context, 10)
    assert list(ours) == reference_picks(explicit_differences(context), np.zeros((0, 6)), 10)


def test_a_labelled_pair_covers_its_reverse():
    # Pool pairs (0, k) with v_k = φ_0 − φ_k; labelled pairs (k, 0) for k ≤ 3 have u = −v_k: distance 0.
    rng = np.random.default_rng(0)
    v = torch.as_tensor(rng.normal(size=(8, 4)), dtype=torch.float32)
    rows = kcenter.greedy_k_center(v, -v[:3], 5)
    assert set(rows) == {3, 4, 5, 6, 7}
    assert set(kcenter.greedy_k_center(v, -v[:3], 8)[5:]) == {0, 1, 2}
