"""The cache is an optimisation, never a failure: an unusable cache_dir means one warning and no caching.

Tests may run as root, where a read-only folder is still writable, so an unusable cache is a path under a
regular file (every write fails with NotADirectoryError) or a write that fails like a full disk.
"""

import errno
import logging
from pathlib import Path

import numpy as np
import pytest

from benchmark import cache, memory
from benchmark.data import files, synthetic
from benchmark.data.embeddings import load_embeddings
from benchmark.data.files import split_paths
from benchmark.errors import UserError
from benchmark.provenance import cached_checksum, file_checksum

TINY_SYNTHETIC = {"dim": 8, "train_prompts": 12, "train_responses": 3, "test_prompts": 4, "test_responses": 5,
                  "prompt_rank": 2, "response_rank": 2}


@pytest.fixture
def warnings(monkeypatch, caplog) -> pytest.LogCaptureFixture:
    """What the test logs, with the once-per-process cache warning flag reset for it."""
    monkeypatch.setattr(cache, "_warned", False)
    caplog.set_level(logging.WARNING)
    return caplog


@pytest.fixture
def blocked(tmp_path) -> Path:
    """A cache_dir that cannot exist: its parent is a regular file."""
    (tmp_path / "a-file").write_text("")
    return tmp_path / "a-file" / "cache"


def cache_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "cannot be used" in r.getMessage()]


def test_checksum_without_a_usable_cache_is_computed_with_one_warning(tmp_path, blocked, warnings):
    path = tmp_path / "x.bin"
    path.write_bytes(b"abc")
    assert cached_checksum(path, blocked) == file_checksum(path) == cached_checksum(path, blocked)
    said = cache_warnings(warnings)
    assert len(said) == 1 and str(blocked) in said[0] and "Not a directory" in said[0]


def test_a_full_disk_while_remembering_is_not_an_error(tmp_path, warnings, monkeypatch):
    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache, "atomic_write_text", full)
    path = tmp_path / "x.bin"
    path.write_bytes(b"abc")
    assert cached_checksum(path, tmp_path / "cache") == file_checksum(path)
    assert len(cache_warnings(warnings)) == 1


def test_an_empty_cache_entry_is_recomputed(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"abc")
    cached_checksum(path, tmp_path / "cache")
    for entry in (tmp_path / "cache" / "file-facts").iterdir():
        entry.write_text("")
    assert cached_checksum(path, tmp_path / "cache") == file_checksum(path)


def test_embeddings_load_without_a_usable_cache(tmp_path, blocked, warnings):
    rng = np.random.default_rng(0)
    for split, (n, k) in (("train", (5, 3)), ("test", (3, 4))):
        embd_path, reward_path = split_paths(tmp_path, "g", "e", "t", split)
        np.save(embd_path, rng.standard_normal((n, k, 4)).astype(np.float32))
        np.save(reward_path, rng.standard_normal((n, k, 1)).astype(np.float32))
    data = load_embeddings(root=str(tmp_path), generator="g", embedder="e", task="t", cache_dir=str(blocked))
    assert data.train_embeddings.shape == (5, 3, 4)
    assert len(cache_warnings(warnings)) == 1


def test_synthetic_data_without_a_usable_cache_is_generated_in_memory_with_the_same_values(tmp_path, blocked,
                                                                                           warnings):
    cached = synthetic.load_synthetic(cache_dir=str(tmp_path / "cache"), **TINY_SYNTHETIC)
    in_memory = synthetic.load_synthetic(cache_dir=str(blocked), **TINY_SYNTHETIC)
    assert in_memory.files == () and not isinstance(in_memory.train_embeddings, np.memmap)
    for name in ("train_embeddings", "train_rewards", "test_embeddings", "test_rewards"):
        np.testing.assert_array_equal(getattr(in_memory, name), getattr(cached, name), err_msg=name)
    assert len(cache_warnings(warnings)) == 1


def test_a_failed_cache_write_leaves_no_partial_file(tmp_path, warnings, monkeypatch):
    create = files.create_split

    def full_on_rewards(path, shape, dtype):
        if path.name.startswith("reward_"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return create(path, shape, dtype)

    monkeypatch.setattr(synthetic, "create_split", full_on_rewards)
    data = synthetic.load_synthetic(cache_dir=str(tmp_path), **TINY_SYNTHETIC)
    assert data.train_embeddings.shape == (12, 3, 8)
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [], "partial files were left in the cache"


def test_generating_in_memory_more_than_fits_is_refused(blocked, warnings, monkeypatch):
    monkeypatch.setattr(memory, "available_host_bytes", lambda: 1000)
    with pytest.raises(UserError, match=r"synthetic embd_.*_train\.npy generated in memory needs about .* of host "
                                        r"memory but .* is available: make cache_dir .* writable"):
        synthetic.load_synthetic(cache_dir=str(blocked), **TINY_SYNTHETIC)


def test_create_split_reserves_the_disk_space(tmp_path):
    array = files.create_split(tmp_path / "x.npy", (64, 16, 32), "float32")
    partial = next(tmp_path.glob("*.partial.npy"))
    assert partial.stat().st_blocks * 512 >= array.nbytes, "space not reserved: a full disk would be a SIGBUS"
    files.discard_split(tmp_path / "x.npy")
    assert not list(tmp_path.iterdir())
