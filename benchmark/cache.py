"""The cache under ``cache_dir``: an optimisation, never a reason for a run to fail.

It holds facts about file versions (checksum, passed the NaN/inf scan), generated synthetic data and
C-ordered copies of Fortran-ordered embedding files. When it cannot be used (missing and not creatable,
read-only, full: any OSError) a run logs one warning per process and computes without it.
"""

import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

from benchmark.outputs import atomic_write_text

log = logging.getLogger(__name__)
_warned = False


def unusable(cache_dir: Path, err: OSError) -> None:
    """Log, once per process, that the cache is skipped and why; the caller carries on without it."""
    global _warned
    if not _warned:
        _warned = True
        log.warning(
            "cache_dir %s cannot be used (%s); carrying on without caching, so whole-file checks and data "
            "generation are redone by every run (set cache_dir or ARM_BENCH_CACHE to a writable folder)",
            cache_dir, err,
        )


def identity(path: Path) -> tuple[int, int, int, int]:
    """What changes when a file is edited or replaced: size, mtime, inode and ctime.

    Size and mtime alone can be kept by a copy (``cp -p``, ``rsync -a``, ``tar``), so the inode and ctime count too:
    a replaced file has a new inode, and writing or re-dating a file in place sets its ctime, which no copy can set.
    """
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns, stat.st_ino, stat.st_ctime_ns


def version_key(path: Path, kind: str) -> str:
    """A name for ``kind`` of fact about this version of a file: it changes when the file is replaced or edited."""
    key = "|".join([kind, str(Path(path).resolve()), *map(str, identity(path))])
    return hashlib.sha1(key.encode()).hexdigest()


def remembered(path: Path, cache_dir: Path, kind: str, compute: Callable[[Path], str]) -> str:
    """``compute(path)``, remembered per file version (:func:`version_key`): a sweep reads a 10 GB file once, not per
    job.

    Only results are stored; a ``compute`` that raises (a failed check) is retried next time.
    """
    entry = cache_dir / "file-facts" / f"{version_key(path, kind)}.txt"
    try:
        if entry.is_file() and (value := entry.read_text().strip()):
            return value
    except OSError as err:
        unusable(cache_dir, err)
    value = compute(path)
    try:
        atomic_write_text(entry, value + "\n")
    except OSError as err:
        unusable(cache_dir, err)
    return value
