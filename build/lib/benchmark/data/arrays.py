"""The one in-memory form every dataset takes, whatever produced it."""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class PreferenceData:
    """Train/test responses of a dataset.

    Embeddings may be memory-mapped (float16 or float32); rewards are small and held in RAM.
    A response is addressed by its flat id ``prompt * K + k``, so pools and labels are index arrays.
    """

    name: str
    train_embeddings: np.ndarray  # (P, K, D)
    train_rewards: np.ndarray  # (P, K)
    test_embeddings: np.ndarray  # (P_test, K_test, D)
    test_rewards: np.ndarray  # (P_test, K_test)
    files: tuple[Path, ...] = field(default=())

    @property
    def train_prompts(self) -> int:
        return self.train_embeddings.shape[0]

    @property
    def responses_per_prompt(self) -> int:
        return self.train_embeddings.shape[1]

    @property
    def dim(self) -> int:
        return self.train_embeddings.shape[2]

    def response_embeddings(self, ids: np.ndarray) -> np.ndarray:
        """Float32 embeddings of train responses by flat id, reading only those rows of a memmap.

        Indexes (prompt, response) rather than a flat ``reshape(-1, D)`` view, which for a file that is not
        C-ordered would be a copy of the whole array on every call.
        """
        order = np.argsort(ids, kind="stable")
        prompts, responses = np.divmod(ids[order], self.responses_per_prompt)
        rows = np.empty((len(ids), self.dim), dtype=np.float32)
        rows[order] = self.train_embeddings[prompts, responses]
        return rows
