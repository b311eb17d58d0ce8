"""The authors' file layout: ``embd_{generator}_{embedder}_{task}_{split}.npy`` and ``reward_…``.

Every dataset (synthetic, built, downloaded) is written and read through these two functions, so
the loader has one code path and large files are always memory-mapped.
"""

import os
from pathlib import Path

import numpy as np
from numpy.lib.format import open_memmap

SPLITS = ("train", "test")


def split_paths(root: Path, generator: str, embedder: str, task: str, split: str) -> tuple[Path, Path]:
    stem = f"{generator}_{embedder}_{task}_{split}.npy"
    return Path(root) / f"embd_{stem}", Path(root) / f"reward_{stem}"


def create_split(path: Path, shape: tuple[int, ...], dtype: str) -> np.memmap:
    """A writable memory-mapped .npy under a temporary name; :func:`commit_split` publishes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return open_memmap(_partial(path), mode="w+", dtype=dtype, shape=shape)


def commit_split(array: np.memmap, path: Path) -> None:
    """Flush and atomically rename, so a half-written file never carries the final name."""
    array.flush()
    del array
    os.replace(_partial(path), path)


def open_split(path: Path) -> np.ndarray:
    return np.load(path, mmap_mode="r")


def _partial(path: Path) -> Path:
    return path.with_name(f"{path.name}.{os.getpid()}.partial.npy")
