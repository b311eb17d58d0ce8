"""Named random streams, so runs that differ only in the selector share every other draw.

Each concern (prompt sampling, the initial batch, the pool cap, model init, the selector, evaluation)
draws from its own stream keyed by ``(seed, stream, *keys)``; label noise is keyed by the pair itself
(:func:`keyed_uniforms`). Changing the selector therefore changes
only the selector's draws: comparisons between selectors at one seed are paired.
"""

import numpy as np

#: Stream ids are part of every result: never renumber them (3 was an unused label-noise stream).
STREAMS = {"prompts": 1, "initial": 2, "model_init": 4, "selector": 5, "eval": 6, "pool": 7, "split": 8}

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def generator(seed: int, stream: str, *keys: int) -> np.random.Generator:
    """A numpy generator for one named stream, independent of every other stream."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), STREAMS[stream], *map(int, keys)]))


def torch_seed(seed: int, stream: str, *keys: int) -> int:
    """An integer seed for torch, drawn from a named stream."""
    return int(generator(seed, stream, *keys).integers(2**62))


def _splitmix(x: np.ndarray) -> np.ndarray:
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def keyed_uniforms(seed: int, *keys: np.ndarray) -> np.ndarray:
    """Uniform [0, 1) numbers that depend only on ``(seed, keys)``, not on draw order.

    Label noise uses this: the same pair gets the same noise whichever selector picks it and in
    whichever round, so two selectors that label the same pair see the same label.
    """
    with np.errstate(over="ignore"):
        state = np.full(np.broadcast(*keys).shape, np.uint64(seed), dtype=np.uint64) * _GOLDEN
        for key in keys:
            state = _splitmix(state ^ (np.asarray(key).astype(np.uint64) + _GOLDEN))
    return (state >> np.uint64(11)).astype(np.float64) * 2.0**-53
