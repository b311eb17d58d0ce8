"""What a result depends on besides its config: code version, package versions, data checksums."""

import hashlib
import subprocess
from importlib import metadata
from pathlib import Path

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
