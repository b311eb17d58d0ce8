"""The authors' file layout: ``embd_{generator}_{embedder}_{task}_{split}.npy`` and ``reward_…``.

Every dataset (synthetic, built, downloaded) is written and read through these two functions, so
the loader has one code path and large files are always memory-mapped.
"""

import errno
import os
from pathlib import Path

import numpy as np
from numpy.lib.format import open_memmap

SPLITS = ("train", "test")


def split_paths(root: Path, generator: str, embedder: str, task: str, split: str) -> tuple[Path, Path]:
    stem = f"{generator}_{embedder}_{task}_{split}.npy"
    return Path(root) / f"embd_{stem}", Path(root) / f"reward_{stem}"


def create_split(path: Path, shape: tuple[int, ...], dtype: str) -> np.memmap:
    """A writable memory-mapped .npy under a temporary name; :func:`commit_split` publishes it.

    Its disk space is reserved up front: a full disk is then an OSError here, not a SIGBUS that kills the
    process when a write into the map finds no free block.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    array = open_memmap(_partial(path), mode="w+", dtype=dtype, shape=shape)
    try:
        _reserve(_partial(path))
    except OSError:
        discard_split(path)
        raise
    return array


def _reserve(path: Path) -> None:
    """Allocate every block of the file, where the OS and filesystem can (Linux, most filesystems)."""
    if not hasattr(os, "posix_fallocate"):
        return
    with open(path, "r+b") as handle:
        try:
            os.posix_fallocate(handle.fileno(), 0, os.fstat(handle.fileno()).st_size)
        except OSError as err:
            if err.errno not in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                raise


def commit_split(array: np.memmap, path: Path) -> None:
    """Flush and atomically rename, so a half-written file never carries the final name."""
    array.flush()
    del array
    os.replace(_partial(path), path)


def discard_split(path: Path) -> None:
    """Remove the temporary file of a split that :func:`create_split` made and that will not be committed."""
    _partial(path).unlink(missing_ok=True)


def open_split(path: Path) -> np.ndarray:
    return np.load(path, mmap_mode="r")


def _partial(path: Path) -> Path:
    return path.with_name(f"{path.name}.{os.getpid()}.partial.npy")
