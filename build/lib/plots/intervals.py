"""Intervals over seeds: the Student-t interval of the mean, and the ±1 standard-error band for few seeds.

With the paper's 5 seeds a percentile bootstrap is too narrow (it cannot reach beyond the observed range
and ignores that s itself is estimated from 5 values); the t interval mean ± t_{(1+level)/2, n−1}·s/√n
is exact for normal seed-to-seed noise and close to it otherwise. Paired differences (same seed ⇒ same
prompts, initial batch and label noise) use the same interval on the per-seed differences.

With 2-4 seeds the t multiplier (12.7 at 2 seeds, 4.3 at 3) makes a 95 % band so wide that it hides the lines,
so figures default to ±1 standard error below :data:`CI_SEEDS` seeds (and say so in their title).
"""

from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95
BANDS = ("ci", "se", "none")
#: Fewest seeds for which figures default to the t interval; fewer get ±1 standard error, one gets no band.
CI_SEEDS = 5


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
    half = t_multiplier(n, level) * array.std(axis=0, ddof=1) / np.sqrt(n)
    return Interval(mean, mean - half, mean + half, n)


def t_multiplier(n: int | np.ndarray, level: float = LEVEL) -> float | np.ndarray:
    """t_{(1+level)/2, n−1}: the half-width of the t interval in standard errors; NaN for n < 2."""
    return stats.t.ppf((1 + level) / 2, np.asarray(n) - 1)


def band_interval(values: np.ndarray, band: str, level: float = LEVEL) -> Interval:
    """The figure band over axis 0 (seeds): ``ci`` the t interval, ``se`` mean ± s/√n, ``none`` the mean only."""
    if band == "ci":
        return t_interval(values, level)
    array = np.asarray(values, dtype=np.float64)
    mean, n = array.mean(axis=0), array.shape[0]
    if band == "none" or n == 1:
        return Interval(mean, np.full_like(mean, np.nan), np.full_like(mean, np.nan), n)
    se = array.std(axis=0, ddof=1) / np.sqrt(n)
    return Interval(mean, mean - se, mean + se, n)


def default_band(seeds: int) -> str:
    """``ci`` from :data:`CI_SEEDS` seeds, ``se`` from 2, ``none`` for one."""
    return "ci" if seeds >= CI_SEEDS else "se" if seeds >= 2 else "none"
