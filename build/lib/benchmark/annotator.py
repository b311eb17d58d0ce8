"""A simulated annotator: noisy Bradley-Terry labels driven by the golden reward.

P(a ≻ b) = σ(β·(r*_a − r*_b)/s), with s the std of the golden train rewards (so β means the same
on every dataset) unless a scale is given; β < 0 is a noiseless annotator. Noise for a pair comes
from a hash of (seed, pair, repeat), so every selector that labels the same pair sees the same label.
"""

import numpy as np

from benchmark.errors import UserError
from benchmark.rng import keyed_uniforms


class BradleyTerryAnnotator:
    def __init__(self, beta: float, scale: float, seed: int):
        if beta == 0:
            raise UserError("annotator.beta=0 makes every label a coin flip; use beta>0 (noisy) or beta<0 (noiseless)")
        if not scale > 0:
            raise UserError(f"annotator.scale={scale} must be positive (null = std of the golden train rewards)")
        self.beta = beta
        self.scale = scale
        self.seed = seed

    def probability(self, reward_first: np.ndarray, reward_second: np.ndarray) -> np.ndarray:
        """P(first ≻ second); 1/0 for a noiseless annotator, 1/2 on exact ties."""
        difference = np.asarray(reward_first, np.float64) - np.asarray(reward_second, np.float64)
        if self.beta < 0:
            return 0.5 + 0.5 * np.sign(difference)
        return 1.0 / (1.0 + np.exp(-self.beta * difference / self.scale))

    def label(
        self, pairs: np.ndarray, reward_first: np.ndarray, reward_second: np.ndarray, repeat: np.ndarray
    ) -> np.ndarray:
        """1 where the first response of the pair wins. ``repeat`` counts earlier labels of the pair."""
        uniforms = keyed_uniforms(self.seed, pairs[:, 0], pairs[:, 1], repeat)
        return (uniforms < self.probability(reward_first, reward_second)).astype(np.int8)
