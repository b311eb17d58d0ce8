"""Reproducible top-n ranking, shared by listed pools and the blockwise all-pairs pool."""

import numpy as np
import torch


def top_n(scores: torch.Tensor | np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` largest scores, ties broken by the lower index, so results are reproducible."""
    values = scores.detach().cpu().numpy() if isinstance(scores, torch.Tensor) else np.asarray(scores)
    if n < len(values):
        candidates = np.argpartition(-values, n - 1)[:n]
        threshold = values[candidates].min()
        candidates = np.flatnonzero(values >= threshold)
    else:
        candidates = np.arange(len(values))
    order = np.lexsort((candidates, -values[candidates]))
    return candidates[order[:n]]
