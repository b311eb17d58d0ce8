"""Row-major (C-ordered) embeddings, so reading a response's row reads one contiguous stretch of the file.

``numpy.save`` of a Fortran-ordered array writes it column-major (``fortran_order: True``). Memory-mapped,
such a file holds a response's D values D pages apart: every row read touches D pages, and a flat
``reshape(-1, D)`` silently copies the whole array. Such a file is converted once, in chunks of prompts
(memory stays flat), into a C-ordered copy in the cache, reused until the file changes. Without a usable
cache the file stays as it is: :meth:`PreferenceData.response_embeddings` reads rows without copying it,
only more slowly.
"""

import logging
from pathlib import Path

import numpy as np

from benchmark.cache import unusable, version_key
from benchmark.data.files import commit_split, create_split, discard_split, open_split

log = logging.getLogger(__name__)
#: Bytes of the source file converted per step.
CHUNK_BYTES = 128 << 20


def c_ordered(array: np.ndarray, path: Path, cache_dir: Path | None) -> np.ndarray:
    """``array`` (the memory map of ``path``) if C-ordered, else its C-ordered copy from the cache."""
    if array.flags.c_contiguous:
        return array
    if cache_dir is None:
        log.warning("%s is not C-ordered and there is no cache_dir to convert it into: rows are read from it "
                    "as it is, slowly; save it with numpy.save(path, numpy.ascontiguousarray(array))", path)
        return array
    copy = cache_dir / "c-order" / f"{version_key(path, 'c-order')}.npy"
    try:
        if not copy.is_file():
            _convert(array, path, copy)
        return open_split(copy)
    except OSError as err:
        unusable(cache_dir, err)
        return array


def _convert(array: np.ndarray, path: Path, copy: Path) -> None:
    log.info("%s is Fortran-ordered: converting it once to a C-ordered copy in %s (%.1f MiB)", path, copy.parent,
             array.nbytes / 2**20)
    out = create_split(copy, array.shape, array.dtype.name)
    try:
        step = max(1, CHUNK_BYTES // max(1, array[0].nbytes))
        for start in range(0, len(array), step):
            out[start : start + step] = array[start : start + step]
        commit_split(out, copy)
    except OSError:
        discard_split(copy)
        raise
