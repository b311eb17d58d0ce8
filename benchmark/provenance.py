"""What a result depends on besides its config: code version, package versions, data checksums."""

import hashlib
import subprocess
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from benchmark.outputs import atomic_write_text
from benchmark.paths import REPO_ROOT

PACKAGES = ("torch", "numpy", "scipy", "hydra-core", "omegaconf", "arm-bench")


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def file_checksum(path: Path, chunk: int = 1 << 22) -> str:
    """BLAKE2b of a file, read in chunks so multi-GB embedding files never sit in memory."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def remembered(path: Path, cache_dir: Path, kind: str, compute: Callable[[Path], str]) -> str:
    """``compute(path)``, remembered per (path, size, mtime, kind): a sweep reads a 10 GB file once, not per job.

    Only results are stored; a ``compute`` that raises (a failed check) is retried next time.
    """
    stat = Path(path).stat()
    key = f"{kind}|{Path(path).resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    entry = cache_dir / "file-facts" / f"{hashlib.sha1(key.encode()).hexdigest()}.txt"
    if entry.exists():
        return entry.read_text().strip()
    value = compute(path)
    atomic_write_text(entry, value + "\n")
    return value


def cached_checksum(path: Path, cache_dir: Path) -> str:
    return remembered(path, cache_dir, "blake2b", file_checksum)
