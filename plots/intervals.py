"""Confidence intervals over seeds: the Student-t interval of the mean.

With the paper's 5 seeds a percentile bootstrap is too narrow (it cannot reach beyond the observed range
and ignores that s itself is estimated from 5 values); the t interval mean ± t_{(1+level)/2, n−1}·s/√n
is exact for normal seed-to-seed noise and close to it otherwise. Paired differences (same seed ⇒ same
prompts, initial batch and label noise) use the same interval on the per-seed differences.
"""

from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    """Mean and two-sided interval along the seed axis; arrays shaped like one seed's values."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n: int

    @property
    def half_width(self) -> np.ndarray:
        return self.high - self.mean


def t_interval(values: np.ndarray | list[float], level: float = LEVEL) -> Interval:
    """The t interval of the mean over axis 0 (seeds); NaN bounds when there is a single seed."""
    array = np.asarray(values, dtype=np.float64)
    n = array.shape[0]
    if n == 0:
        raise ValueError("t_interval needs at least one value")
    mean = array.mean(axis=0)
    if n == 1:
        nan = np.full_like(mean, np.nan)
        return Interval(mean, nan, nan, n)
    half = stats.t.ppf((1 + level) / 2, n - 1) * array.std(axis=0, ddof=1) / np.sqrt(n)
    return Interval(mean, mean - half, mean + half, n)
