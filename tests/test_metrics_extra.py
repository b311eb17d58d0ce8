"""bo4_accuracy, pair_nll and pair_ece against loops over their definitions, and their own stream."""

import math

import numpy as np
import pytest
import torch

from benchmark.annotator import BradleyTerryAnnotator
from benchmark.evaluation import Evaluator
from benchmark.metrics import BO4_DRAWS, best_of_4_accuracy, pair_calibration, pairwise_accuracy


def test_best_of_4_accuracy_is_the_share_of_draws_whose_golden_best_is_predicted_strictly_best():
    rng = np.random.default_rng(0)
    golden = rng.integers(0, 4, size=(6, 7)).astype(float)  # ties happen
    predicted = rng.integers(0, 4, size=(6, 7)).astype(float)
    draws = np.stack([[rng.permutation(7)[:4] for _ in range(5)] for _ in range(6)])
    correct = decided = 0
    for p in range(6):
        for draw in draws[p]:
            gold, pred = golden[p, draw], predicted[p, draw]
            best = int(np.argmax(gold))
            if sum(g == gold[best] for g in gold) > 1:
                continue  # the golden best is tied: no right answer
            decided += 1
            correct += all(pred[best] > pred[j] for j in range(4) if j != best)
    assert 0 < decided < 30
    assert best_of_4_accuracy(predicted, golden, draws) == pytest.approx(correct / decided)


def test_pair_nll_and_ece_follow_their_definitions():
    rng = np.random.default_rng(1)
    golden, predicted = rng.normal(size=(5, 6)), 2 * rng.normal(size=(5, 6))
    pairs = np.stack([rng.integers(0, 6, size=(5, 40)), rng.integers(0, 6, size=(5, 40))], axis=-1)
    annotator = BradleyTerryAnnotator(beta=2.0, scale=0.7, seed=0)
    p_hat, p_true = [], []
    for prompt in range(5):
        for a, b in pairs[prompt]:
            p_hat.append(1 / (1 + math.exp(-(predicted[prompt, a] - predicted[prompt, b]))))
            p_true.append(1 / (1 + math.exp(-2.0 * (golden[prompt, a] - golden[prompt, b]) / 0.7)))
    nll = -np.mean([t * math.log(h) + (1 - t) * math.log(1 - h) for h, t in zip(p_hat, p_true, strict=True)])
    ece = 0.0
    for b in range(10):
        members = [i for i, h in enumerate(p_hat) if b / 10 <= h < (b + 1) / 10 or (b == 9 and h == 1.0)]
        if members:
            ece += len(members) / len(p_hat) * abs(np.mean([p_hat[i] for i in members])
                                                    - np.mean([p_true[i] for i in members]))
    out = pair_calibration(predicted, golden, pairs, annotator.probability)
    assert out["pair_nll"] == pytest.approx(nll, rel=1e-10)
    assert out["pair_ece"] == pytest.approx(ece, rel=1e-10)


def test_a_calibrated_model_has_small_ece_and_the_entropy_as_nll():
    # Predicting exactly the annotator's logits: ECE ≈ 0 and NLL = the mean binary entropy of p*.
    rng = np.random.default_rng(2)
    golden = rng.normal(size=(50, 8))
    annotator = BradleyTerryAnnotator(beta=1.0, scale=1.0, seed=0)
    pairs = np.stack([rng.integers(0, 8, size=(50, 30)), rng.integers(0, 8, size=(50, 30))], axis=-1)
    out = pair_calibration(golden, golden, pairs, annotator.probability)
    rows = np.arange(50)[:, None]
    p = annotator.probability(golden[rows, pairs[..., 0]], golden[rows, pairs[..., 1]])
    entropy = -(p * np.log(p) + (1 - p) * np.log(1 - p)).mean()
    assert out["pair_ece"] < 1e-12 and out["pair_nll"] == pytest.approx(entropy)


def test_the_new_metrics_draw_from_their_own_streams_and_leave_the_others_unchanged():
    rng = np.random.default_rng(3)
    embeddings, rewards = rng.normal(size=(12, 6, 3)).astype(np.float32), rng.normal(size=(12, 6))
    annotator = BradleyTerryAnnotator(beta=1.0, scale=1.0, seed=0)

    def model(x: torch.Tensor) -> torch.Tensor:
        return x.sum(-1)

    cpu = torch.device("cpu")
    plain = Evaluator(embeddings, rewards, 7, [2, 4], 3, 5, 4)
    extended = Evaluator(embeddings, rewards, 7, [2, 4], 3, 5, 4, probability=annotator.probability)
    before, full = plain.evaluate(model, cpu), extended.evaluate(model, cpu)
    assert {key: full[key] for key in before} == before and set(full) - set(before) == {"pair_nll", "pair_ece"}
    predicted = extended.predict(model, cpu)
    assert full["test_accuracy"] == pairwise_accuracy(predicted, rewards, extended.draws.accuracy_pairs)
    draws = np.argsort(extended.draws.stream("bo4_accuracy").random((12, BO4_DRAWS, 6)), axis=-1)[..., :4]
    assert full["bo4_accuracy"] == best_of_4_accuracy(predicted, rewards, draws)
