"""Coreset sensitivities against Huggins et al.'s formula, and sampling in proportion to them."""

import numpy as np
import torch

from benchmark.perf.selectors import reference_sensitivities
from benchmark.pools import CandidatePool
from benchmark.runner import run_experiment
from benchmark.selectors import CoresetSelector, SelectionContext
from benchmark.selectors.coreset import kmeans, lr_sensitivities


def test_sensitivities_follow_the_formula():
    rng = np.random.default_rng(0)
    data, centers = rng.normal(size=(9, 3)), rng.normal(size=(3, 3))
    assignments = np.array([0, 0, 1, 1, 1, 1, 0, 0, 0])  # cluster 2 is empty
    radius = 0.8
    expected = []
    for x, own in zip(data, assignments, strict=True):
        total = 1 - np.exp(-radius * np.linalg.norm(x - centers[own]))
        for j in range(3):
            total += np.sum(assignments == j) * np.exp(-radius * np.linalg.norm(x - centers[j]))
        expected.append(len(data) / total)
    as_tensors = torch.as_tensor(data), torch.as_tensor(centers), torch.as_tensor(assignments)
    np.testing.assert_allclose(lr_sensitivities(*as_tensors, radius).numpy(), expected, rtol=1e-12)


def clustered_context(sizes=(150, 40, 10), seed=0) -> SelectionContext:
    """Pairs whose v fall in tight, far-apart clusters: response 0 has φ = 0, pair k = (0, k)."""
    rng = np.random.default_rng(seed)
    centres = 50.0 * np.eye(3)
    phi = [np.zeros(3)] + [centres[c] + 1e-4 * rng.normal(size=3) for c, s in enumerate(sizes) for _ in range(s)]
    count = len(phi)
    pool = CandidatePool(np.arange(count), np.zeros(count - 1, dtype=np.int64), np.arange(1, count), count)
    return SelectionContext(
        pool=pool, features=-torch.as_tensor(np.array(phi), dtype=torch.float32), head=torch.zeros(3),
        labelled_pairs=np.zeros((0, 2), dtype=np.int64), labels=np.zeros(0, dtype=np.int8),
        featurize=lambda ids: torch.zeros((len(ids), 3)), rng=np.random.default_rng(seed),
    )


def test_tight_clusters_give_sensitivity_n_over_cluster_size():
    # Inside a tight cluster the own term is ≈ |cluster| and the others vanish, so σ ≈ N / |cluster|.
    context = clustered_context()
    sensitivity = CoresetSelector(clusters=3).sensitivities(context)
    expected = np.repeat([200 / 150, 200 / 40, 200 / 10], [150, 40, 10])
    np.testing.assert_allclose(sensitivity, expected, rtol=1e-2)


def test_draws_follow_the_sensitivities_and_respect_the_replacement_flag():
    context = clustered_context(seed=1)
    sampler = CoresetSelector(clusters=3, with_replacement=True)
    assert sampler.allows_repeats and not CoresetSelector().allows_repeats
    rows = sampler.select(context, 3000)
    # P(cluster) ∝ size × N/size: each cluster is drawn a third of the time.
    shares = np.bincount(np.searchsorted([150, 190], rows, side="right"), minlength=3) / 3000
    np.testing.assert_allclose(shares, 1 / 3, atol=0.04)
    distinct = CoresetSelector(clusters=3).select(clustered_context(seed=2), 150)
    assert len(np.unique(distinct)) == 150


def test_reference_draws_repeat_pairs_and_the_loop_labels_each_repeat(make_config, run_dir):
    # 150 draws ∝ sensitivity from a pool of 160 pairs repeat some pairs; each repeat is another annotation.
    cfg = make_config("selector=coreset", "selector.with_replacement=true", "batch.size=150", "budget=150",
                      "candidates_per_round=160")
    assert run_experiment(cfg, run_dir)["final"]["n_labels"] == 170
    pairs = np.load(run_dir / "selections" / "round_001.npz")["pairs"]
    assert len(pairs) == 150 and len(np.unique(pairs, axis=0)) < 150


def test_sensitivities_match_the_authors_formula_given_the_same_centres():
    # The benchmark's re-implementation of the authors' rule (scikit-learn distances, float32 data) is the reference.
    rng = np.random.default_rng(3)
    data = torch.as_tensor(rng.normal(size=(300, 8)) + 4 * (rng.random((300, 1)) < 0.3), dtype=torch.float32)
    centres, assignments = kmeans(data, 5, rng)
    ours = lr_sensitivities(data, centres, assignments, 0.7).numpy()
    theirs = reference_sensitivities(data.numpy(), centres.numpy(), assignments.numpy(), 0.7)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert len(np.unique(assignments.numpy())) > 1
