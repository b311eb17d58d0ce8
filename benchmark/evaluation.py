"""Scoring a reward model on the test split: predictions streamed in chunks, then every registered metric.

Predictions are made in chunks of prompts so a 2,000 × 500 × D test set is streamed from its memory map; a chunk
holds at most ``CHUNK_VALUES`` embedding values (128 MB in float32), whatever ``chunk_prompts`` says, so memory
stays bounded when prompts have hundreds of responses. What is computed from the predictions is
:data:`benchmark.metrics.METRICS`.
"""

from collections.abc import Callable, Sequence

import numpy as np
import torch

from benchmark.metrics import Draws, Predictions, best_of_n_key, evaluate

CHUNK_VALUES = 1 << 25


def effective_chunk_prompts(requested: int, responses: int, dim: int) -> int:
    """Prompts per evaluation chunk: as requested, but never more than ``CHUNK_VALUES`` input values."""
    return max(1, min(requested, CHUNK_VALUES // (responses * dim)))


class Evaluator:
    """Scores a reward model on the test split with draws fixed for the whole run (seeded by ``seed``)."""

    def __init__(
        self,
        test_embeddings: np.ndarray,
        test_rewards: np.ndarray,
        seed: int,
        bon_n: Sequence[int],
        bon_repeats: int,
        accuracy_pairs: int,
        chunk_prompts: int,
        test_prompts: int | None = None,
        probability: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    ):
        prompts = test_embeddings.shape[0] if test_prompts is None else min(test_prompts, len(test_embeddings))
        self.embeddings = test_embeddings[:prompts]
        self.golden = np.asarray(test_rewards[:prompts], dtype=np.float64)
        k = self.golden.shape[1]
        self.bon_n = sorted({min(n, k) for n in bon_n})
        self.chunk_prompts = effective_chunk_prompts(chunk_prompts, k, test_embeddings.shape[2])
        self.draws = Draws(seed, prompts, k, bon_repeats, accuracy_pairs)
        self.probability = probability  # the annotator's P(a ≻ b), for pair_nll and pair_ece

    @property
    def largest_n(self) -> int:
        return self.bon_n[-1]

    @property
    def bon_key(self) -> str:
        """The best-of-N key of the run's headline numbers: the largest N."""
        return best_of_n_key(self.largest_n)

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
        return evaluate(Predictions(self.predict(reward, device), self.golden, self.draws, self.bon_n,
                                    self.probability))
