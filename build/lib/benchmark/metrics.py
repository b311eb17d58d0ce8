"""Test-set metrics: per-prompt Spearman, Best-of-N and pairwise accuracy.

Draws used by the metrics (BoN subsets, accuracy pairs) are fixed once per seed, so every round and
every selector is scored on the same draws. Predictions are made in chunks of prompts so a
2,000 × 500 × D test set is streamed from its memory map; a chunk holds at most ``CHUNK_VALUES``
embedding values (128 MB in float32), whatever ``chunk_prompts`` says, so memory stays bounded when
prompts have hundreds of responses.
"""

from collections.abc import Callable, Sequence

import numpy as np
import torch

CHUNK_VALUES = 1 << 25


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..K within each row of (P, K) ``values``, ties sharing the mean of their ranks (Spearman's).

    One stable sort per row; each run of equal sorted values is a group numbered across all rows, so
    its first position and size come from flat cumsum/bincount: a member's rank is first + (size − 1)/2 + 1.
    Written here so the metrics need no scipy at import time.
    """
    order = np.argsort(values, axis=1, kind="stable")
    ordered = np.take_along_axis(values, order, axis=1)
    starts = np.ones(values.shape, dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    group = np.cumsum(starts.reshape(-1)) - 1
    first = np.flatnonzero(starts) % values.shape[1]
    mean_rank = (first + (np.bincount(group) - 1) / 2 + 1)[group].reshape(values.shape)
    ranks = np.empty(values.shape, dtype=np.float64)
    np.put_along_axis(ranks, order, mean_rank, axis=1)
    return ranks


def spearman_per_prompt(predicted: np.ndarray, golden: np.ndarray) -> tuple[float, int]:
    """Mean over prompts of Spearman's ρ (average ranks for ties), and how many prompts were skipped.

    Prompts whose golden rewards are all equal have no ranking to recover and are skipped (counted).
    Constant *predictions* score ρ = 0 and are kept, so a collapsed model is not rewarded.
    """
    pred_ranks = average_ranks(predicted)
    gold_ranks = average_ranks(golden)
    pred_centred = pred_ranks - pred_ranks.mean(axis=1, keepdims=True)
    gold_centred = gold_ranks - gold_ranks.mean(axis=1, keepdims=True)
    pred_norm = np.sqrt((pred_centred**2).sum(axis=1))
    gold_norm = np.sqrt((gold_centred**2).sum(axis=1))
    valid = gold_norm > 0
    informative = (pred_norm > 0) & valid
    denominator = np.where(informative, pred_norm * gold_norm, 1.0)
    rho = np.where(informative, (pred_centred * gold_centred).sum(axis=1) / denominator, 0.0)
    skipped = int(np.count_nonzero(~valid))
    return (float(rho[valid].mean()) if valid.any() else float("nan")), skipped


def best_of_n(
    predicted: np.ndarray, golden: np.ndarray, subsets: np.ndarray, ns: Sequence[int]
) -> dict[str, float]:
    """Golden reward of the predicted-best of N random responses, with oracle and random baselines.

    ``subsets`` (repeats, P, K) holds random permutations of each prompt's responses; the first N
    columns are the N-subset, so all N share draws. ``bon_oracle/N`` is the best golden reward in the
    subset and ``bon_random/N`` its mean, on the same draws, for normalising across datasets.
    """
    rows = np.arange(predicted.shape[0])[:, None]
    out: dict[str, float] = {}
    for n in ns:
        chosen, oracle, random = [], [], []
        for permutation in subsets:
            subset = permutation[:, :n]
            pred, gold = predicted[rows, subset], golden[rows, subset]
            chosen.append(gold[rows[:, 0], pred.argmax(axis=1)].mean())
            oracle.append(gold.max(axis=1).mean())
            random.append(gold.mean())
        out[f"bon/{n}"] = float(np.mean(chosen))
        out[f"bon_oracle/{n}"] = float(np.mean(oracle))
        out[f"bon_random/{n}"] = float(np.mean(random))
    return out


def pairwise_accuracy(predicted: np.ndarray, golden: np.ndarray, pairs: np.ndarray) -> float:
    """Share of test pairs (P, M, 2) ordered as the golden reward orders them; predicted ties count 1/2."""
    rows = np.arange(predicted.shape[0])[:, None]
    gold = np.sign(golden[rows, pairs[..., 0]] - golden[rows, pairs[..., 1]])
    pred = np.sign(predicted[rows, pairs[..., 0]] - predicted[rows, pairs[..., 1]])
    decided = gold != 0
    agreement = np.where(pred == 0, 0.5, (pred == gold).astype(np.float64))
    return float(agreement[decided].mean()) if decided.any() else float("nan")


def effective_chunk_prompts(requested: int, responses: int, dim: int) -> int:
    """Prompts per evaluation chunk: as requested, but never more than ``CHUNK_VALUES`` input values."""
    return max(1, min(requested, CHUNK_VALUES // (responses * dim)))


class Evaluator:
    """Scores a reward model on the test split with draws fixed for the whole run."""

    def __init__(
        self,
        test_embeddings: np.ndarray,
        test_rewards: np.ndarray,
        rng: np.random.Generator,
        bon_n: Sequence[int],
        bon_repeats: int,
        accuracy_pairs: int,
        chunk_prompts: int,
        test_prompts: int | None = None,
    ):
        prompts = test_embeddings.shape[0] if test_prompts is None else min(test_prompts, len(test_embeddings))
        self.embeddings = test_embeddings[:prompts]
        self.golden = np.asarray(test_rewards[:prompts], dtype=np.float64)
        k = self.golden.shape[1]
        self.bon_n = sorted({min(n, k) for n in bon_n})
        self.chunk_prompts = effective_chunk_prompts(chunk_prompts, k, test_embeddings.shape[2])
        # One repeat at a time: the same draws as one (repeats, P, K) call, without its float64 temporaries.
        self.subsets = np.stack([np.argsort(rng.random((prompts, k)), axis=1).astype(np.int32)
                                 for _ in range(bon_repeats)])
        first = rng.integers(0, k, size=(prompts, accuracy_pairs))
        second = (first + rng.integers(1, k, size=(prompts, accuracy_pairs))) % k
        self.accuracy_pairs = np.stack([first, second], axis=-1)

    @property
    def largest_n(self) -> int:
        return self.bon_n[-1]

    def predict(self, reward: Callable[[torch.Tensor], torch.Tensor], device: torch.device) -> np.ndarray:
        """Predicted rewards (P_test, K_test), reading the test embeddings one chunk of prompts at a time.

        A chunk is copied in its stored dtype and widened to float32 by torch (on the device): about 3x
        faster than numpy's float16 cast, and half the bytes to move to a GPU.
        """
        out = np.empty(self.golden.shape, dtype=np.float64)
        with torch.no_grad():
            for start in range(0, len(out), self.chunk_prompts):
                chunk = torch.from_numpy(np.array(self.embeddings[start : start + self.chunk_prompts]))
                predicted = reward(chunk.to(device=device, dtype=torch.float32))
                out[start : start + len(chunk)] = predicted.cpu().numpy()
        return out

    def evaluate(self, reward: Callable[[torch.Tensor], torch.Tensor], device: torch.device) -> dict[str, float]:
        predicted = self.predict(reward, device)
        spearman, skipped = spearman_per_prompt(predicted, self.golden)
        return {
            "spearman": spearman,
            "one_minus_spearman": 1.0 - spearman,
            "spearman_skipped_prompts": skipped,
            "test_accuracy": pairwise_accuracy(predicted, self.golden, self.accuracy_pairs),
            **best_of_n(predicted, self.golden, self.subsets, self.bon_n),
        }
