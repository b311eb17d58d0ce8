"""2D toy data for the paper's Figure 1: points in the plane with a known reward surface.

The "embedding" is the point itself (D = 2), so the fitted reward and the chosen pairs can be drawn.
"""

from collections.abc import Callable

import numpy as np

from benchmark.config import Count
from benchmark.data.arrays import PreferenceData

BOX = ((-2.0, 2.0), (-1.5, 2.5))


def bimodal(points: np.ndarray) -> np.ndarray:
    """Two bumps of different height, the shape in the paper's Figure 1 caption."""
    x, y = points[..., 0], points[..., 1]
    return 3.0 * np.exp(-((x - 1.0) ** 2 + (y - 1.0) ** 2) / 1.5) + 2.0 * np.exp(
        -((x + 1.0) ** 2 + (y + 0.5) ** 2) / 1.5
    )


def three_well(points: np.ndarray, scale: float = 5.0) -> np.ndarray:
    """The authors' toy reward (docs/method.md §1.6): the classic three-hole potential, times ``scale``."""
    x, y = points[..., 0], points[..., 1]
    return scale * (
        3 * np.exp(-(x**2) - (y - 1 / 3) ** 2)
        - 3 * np.exp(-(x**2) - (y - 5 / 3) ** 2)
        - 5 * np.exp(-((x - 1) ** 2) - y**2)
        - 5 * np.exp(-((x + 1) ** 2) - y**2)
        + 0.2 * x**4
        + 0.2 * (y - 1 / 3) ** 4
    )


REWARDS: dict[str, Callable[[np.ndarray], np.ndarray]] = {"bimodal": bimodal, "three_well": three_well}


def load_toy2d(
    name: str = "toy2d",
    reward: str = "bimodal",
    train_prompts: Count = 50,
    train_responses: Count = 10,
    test_prompts: Count = 50,
    test_responses: Count = 50,
    seed: int = 0,
) -> PreferenceData:
    """Points drawn uniformly in the box; each 'prompt' is just a group of K points."""
    if reward not in REWARDS:
        raise ValueError(f"dataset.reward={reward!r} is not one of {sorted(REWARDS)}")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
    low = np.array([BOX[0][0], BOX[1][0]])
    high = np.array([BOX[0][1], BOX[1][1]])
    train = rng.uniform(low, high, size=(train_prompts, train_responses, 2)).astype(np.float32)
    test = rng.uniform(low, high, size=(test_prompts, test_responses, 2)).astype(np.float32)
    golden = REWARDS[reward]
    return PreferenceData(
        name, train, golden(train).astype(np.float32), test, golden(test).astype(np.float32)
    )
