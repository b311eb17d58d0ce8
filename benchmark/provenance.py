"""What a result depends on besides its config: code version, package versions, data checksums.

:func:`input_fingerprint` collects them for a run folder, and :func:`fingerprint_changes` names what
differs between two fingerprints, so a run is only resumed onto the inputs it started with.

The authority for code is the hash of the package's own source files (every ``.py`` of ``benchmark/``), not
git: it covers uncommitted edits and installs without a checkout, and ignores commits that touch only docs or
tests. The user's own modules that a ``_target_`` loads from outside the package are code too, hashed as
imported (:mod:`benchmark.usercode`). The git commit and dirty flag are recorded for provenance only and never
by themselves stop a resume.
"""

import hashlib
import os
import subprocess
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmark import usercode
from benchmark.cache import remembered
from benchmark.paths import PACKAGE_DIR, REPO_ROOT

PACKAGES = ("torch", "numpy", "scipy", "hydra-core", "omegaconf", "arm-bench")
#: Source folders hashed by :func:`source_hash`, and the suffixes that count: the package's Python files, the code
#: a run's results can depend on. Plots and sweep files cannot change a result, and every config value a run uses
#: is compared through its config.yaml.
SOURCES = ((PACKAGE_DIR, (".py",)),)


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def git_state() -> dict[str, Any] | None:
    """Commit and dirty flag of the checkout this package runs from; None when it does not run from one.

    Only a checkout whose top level is this repository counts: an installed copy that happens to sit inside
    some other git repository (a home folder under version control) has no commit of its own.
    """
    top = _git("rev-parse", "--show-toplevel")
    if top is None or Path(top.strip()).resolve() != REPO_ROOT.resolve():
        return None
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain")
    return {"commit": commit.strip() if commit else None, "dirty": None if status is None else bool(status.strip())}


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


def cached_checksum(path: Path, cache_dir: Path) -> str:
    return remembered(path, cache_dir, "blake2b", file_checksum)


def _source_files() -> Iterator[tuple[str, Path]]:
    """(name relative to the repository, path) of every hashed source file, in a fixed order.

    ``os.walk`` does not follow links, so ``conf/sweep -> ../sweeps`` is hashed once, as ``sweeps/``.
    """
    for root, suffixes in SOURCES:
        found = []
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            found += [Path(folder) / f for f in files if f.endswith(suffixes)]
        for path in sorted(found):
            yield path.relative_to(root.parent).as_posix(), path


def source_digests() -> dict[str, str]:
    """BLAKE2b of each package source file, by its name relative to the repository (a few ms)."""
    return {name: hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest() for name, path in _source_files()}


def source_hash(digests: Mapping[str, str] | None = None) -> str:
    """BLAKE2b over the names and contents of the package's source files (of ``digests`` if given)."""
    digest = hashlib.blake2b(digest_size=16)
    for name, file_digest in (source_digests() if digests is None else digests).items():
        digest.update(name.encode() + b"\0" + bytes.fromhex(file_digest))
    return digest.hexdigest()


def input_fingerprint(data_files: list[Path] | None, generator: dict | None, cache_dir: Path,
                      config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Everything besides the config that a run's results depend on, as JSON-ready values.

    ``data_files``: the files a dataset was read from (checksums, remembered per file version under
    ``cache_dir``); ``generator``: for generated data, the dataset config that generates it (its cache
    location left out). Either may be None. ``config``: the run's config, whose ``_target_`` modules from
    outside the package are recorded as ``user_code``. ``git`` is provenance only (see the module docstring).
    """
    digests = source_digests()
    return {
        "data_files": None if data_files is None else {
            Path(path).name: cached_checksum(Path(path), cache_dir) for path in data_files
        },
        "generator": generator,
        "version": package_versions().get("arm-bench"),
        "source": source_hash(digests),
        "source_files": digests,
        "user_code": usercode.fingerprint(config or {}),
        "git": git_state(),
    }


def fingerprint_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between two fingerprints that would change results, one short phrase each.

    Empty means a run started on ``old`` may continue on ``new``. Git fields are not compared (the source
    hash decides for code), and a field ``old`` did not record (an older version) is not compared.
    """
    changes = []
    if "data_files" in old:
        before, after = old["data_files"] or {}, new.get("data_files") or {}
        for name in sorted(before.keys() | after.keys()):
            if name not in after:
                changes.append(f"data file {name} is no longer used")
            elif name not in before:
                changes.append(f"data file {name} is new")
            elif before[name] != after[name]:
                changes.append(f"data file {name} changed")
    if "generator" in old and old["generator"] != new.get("generator"):
        before, after = old["generator"] or {}, new.get("generator") or {}
        keys = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        changes.append(f"generated data's parameters changed ({', '.join(keys)})")
    if "version" in old and old["version"] != new.get("version"):
        changes.append(f"arm-bench version changed ({old['version']} -> {new.get('version')})")
    if "source" in old and old["source"] != new.get("source"):
        before, after = old.get("source_files"), new.get("source_files")
        files = sorted(k for k in (before or {}).keys() | (after or {}).keys()
                       if (before or {}).get(k) != (after or {}).get(k)) if before and after else []
        listed = f" ({', '.join(files[:5])}{' ...' if len(files) > 5 else ''})" if files else ""
        changes.append(f"package source changed{listed}")
    if "user_code" in old:
        changes += usercode.changes(old["user_code"] or {}, new.get("user_code") or {})
    return changes
