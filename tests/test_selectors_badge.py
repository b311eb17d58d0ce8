"""BADGE: gradient embeddings and k-means++ seeding against loops over the pairs, with the same uniforms."""

import numpy as np
import torch
from scipy.special import expit

from benchmark.pairings import CROSS_PROMPT, IN_PROMPT
from benchmark.selectors.badge import kmeans_pp_seeds
from tests.test_selectors_epig import check_contract, explicit_differences
from tests.test_selectors_properties import build, random_context


def reference_seeds(points: np.ndarray, n: int, rng: np.random.Generator) -> list[int]:
    """k-means++ by loops: the longest point, then point i with probability D_i² / Σ D², inverting the CDF."""
    picks = [int(np.argmax([np.linalg.norm(x) for x in points]))]
    while len(picks) < n:
        squared = [min(np.sum((x - points[c]) ** 2) for c in picks) for x in points]
        if sum(squared) == 0:  # only copies of the picks are left: uniform over the unpicked
            squared = [0.0 if i in picks else 1.0 for i in range(len(points))]
        threshold, running = rng.random() * sum(squared), 0.0
        for i, weight in enumerate(squared):
            running += weight
            if running > threshold:
                picks.append(i)
                break
    return picks


def test_badge_meets_the_selector_contract():
    check_contract("badge", implicit_ok=False)


def test_embeddings_are_the_loss_gradient_at_the_predicted_label_for_either_order():
    context, _ = random_context(0, CROSS_PROMPT)
    ours = build("badge").embeddings(context).double().numpy()
    theta = context.head.double().numpy()
    for k, v in enumerate(explicit_differences(context)):
        for sign in (1, -1):  # the pair (b, a) has v → −v and the same gradient embedding
            p = expit(sign * v @ theta)
            np.testing.assert_allclose(ours[k], (p - (p >= 0.5)) * sign * v, rtol=1e-5, atol=1e-6)


def test_seeding_follows_the_d2_rule():
    for seed in range(3):
        context, _ = random_context(seed, IN_PROMPT)
        points = build("badge").embeddings(context)
        context.rng = np.random.default_rng(seed)
        ours = build("badge").select(context, 20)
        assert list(ours) == reference_seeds(points.double().numpy(), 20, np.random.default_rng(seed))


def test_copies_of_picks_come_last_and_then_uniformly():
    # Three distinct points, four copies each: the first three picks cover all three; after that every D is 0
    # and the fourth pick is uniform over the 9 unpicked rows (rows 1-3 always among them, the others 3 in 4).
    points = torch.as_tensor(np.repeat(np.eye(3) * [3.0, 2.0, 1.0], 4, axis=0), dtype=torch.float32)
    rows = kmeans_pp_seeds(points, 3, np.random.default_rng(0))
    assert sorted(rows // 4) == [0, 1, 2] and rows[0] == 0
    fourth = np.bincount([kmeans_pp_seeds(points, 4, np.random.default_rng(s))[3] for s in range(900)], minlength=12)
    fourth = fourth / 900
    assert fourth[0] == 0
    np.testing.assert_allclose(fourth[1:4], 1 / 9, atol=0.035)
    np.testing.assert_allclose(fourth[4:], 1 / 12, atol=0.035)


def test_building_in_blocks_changes_no_value_and_no_pick(monkeypatch):
    """The block-wise embeddings equal v·(p − ŷ) from whole-pool arrays bit for bit, and the picks do not move."""
    from benchmark.selectors import badge

    for seed in range(3):
        context, _ = random_context(seed, CROSS_PROMPT)
        p = torch.sigmoid(context.reward_differences)
        whole = context.pair_differences * (p - (p >= 0.5).to(p.dtype))[:, None]
        picks = build("badge").select(context, 15)
        monkeypatch.setattr(badge, "BLOCK", 7)  # many blocks, the last one partial
        assert torch.equal(build("badge").embeddings(context), whole)
        context_again, _ = random_context(seed, CROSS_PROMPT)
        assert list(build("badge").select(context_again, 15)) == list(picks)
        monkeypatch.setattr(badge, "BLOCK", 1024)
