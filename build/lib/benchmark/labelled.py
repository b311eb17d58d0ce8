"""The growing set of labelled pairs, with fast membership tests for excluding them from pools."""

import numpy as np

from benchmark.pools import pair_keys


class LabelledSet:
    def __init__(self, total_responses: int):
        self.total_responses = total_responses
        self.pairs = np.zeros((0, 2), dtype=np.int64)
        self.labels = np.zeros(0, dtype=np.int8)
        self.sorted_keys = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.labels)

    def keys(self, pairs: np.ndarray) -> np.ndarray:
        return pair_keys(pairs[:, 0], pairs[:, 1], self.total_responses)

    def repeats(self, pairs: np.ndarray) -> np.ndarray:
        """How many labels each pair already has (earlier rounds and earlier in this batch)."""
        keys = self.keys(pairs)
        earlier = np.searchsorted(self.sorted_keys, keys, side="right") - np.searchsorted(self.sorted_keys, keys)
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        group_start = np.searchsorted(sorted_keys, sorted_keys)
        within = np.empty(len(keys), dtype=np.int64)
        within[order] = np.arange(len(keys)) - group_start
        return earlier + within

    def add(self, pairs: np.ndarray, labels: np.ndarray) -> None:
        self.pairs = np.concatenate([self.pairs, pairs])
        self.labels = np.concatenate([self.labels, labels.astype(np.int8)])
        self.sorted_keys = np.sort(np.concatenate([self.sorted_keys, self.keys(pairs)]))
