"""Whole-file work (NaN/inf scan, checksum, layout conversion) is done once per file version, not once per run."""

import hashlib
import os
import tracemalloc

import numpy as np
import pytest

from benchmark.data import layout, validate
from benchmark.data.embeddings import load_embeddings
from benchmark.data.files import split_paths
from benchmark.errors import UserError
from benchmark.provenance import cached_checksum, file_checksum


def write_setup(root, embd_train: np.ndarray) -> None:
    for split, embeddings in (("train", embd_train), ("test", np.ones((3, 4, embd_train.shape[2]), np.float16))):
        embd_path, reward_path = split_paths(root, "g", "e", "t", split)
        np.save(embd_path, embeddings)
        n, k = embeddings.shape[:2]
        np.save(reward_path, np.arange(n * k, dtype=np.float32).reshape(n, k, 1))


def test_finite_scan_runs_once_per_file_version(tmp_path, monkeypatch):
    calls = []
    scan = validate.check_finite
    monkeypatch.setattr(validate, "check_finite", lambda array, path: calls.append(path.name) or scan(array, path))
    write_setup(tmp_path, np.ones((5, 4, 8), np.float16))
    cache = tmp_path / "cache"
    for _ in range(2):
        load_embeddings(root=str(tmp_path), generator="g", embedder="e", task="t", cache_dir=str(cache))
    assert len(calls) == 4  # 4 files, scanned on the first load only

    broken = np.ones((5, 4, 8), np.float16)
    broken[2, 1, 3] = np.nan
    embd_train = split_paths(tmp_path, "g", "e", "t", "train")[0]
    np.save(embd_train, broken)
    os.utime(embd_train, ns=(1, 1))  # a new version even on filesystems with coarse timestamps
    with pytest.raises(UserError, match="NaN"):
        load_embeddings(root=str(tmp_path), generator="g", embedder="e", task="t", cache_dir=str(cache))


def test_cached_checksum_follows_the_file(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"abc")
    first = cached_checksum(path, tmp_path / "cache")
    assert first == file_checksum(path) == cached_checksum(path, tmp_path / "cache")
    path.write_bytes(b"abcd")
    os.utime(path, ns=(2, 2))
    assert cached_checksum(path, tmp_path / "cache") == file_checksum(path) != first


def test_fortran_ordered_embeddings_are_converted_once_per_file_version(tmp_path, monkeypatch):
    calls = []
    convert = layout._convert
    monkeypatch.setattr(layout, "_convert", lambda array, path, copy: calls.append(path.name) or
                        convert(array, path, copy))
    monkeypatch.setattr(layout, "CHUNK_BYTES", 3 * 4 * 8 * 2)  # several chunks: 3 prompts of float16 at a time
    values = np.random.default_rng(0).standard_normal((7, 4, 8)).astype(np.float16)
    write_setup(tmp_path, np.asfortranarray(values))
    embd_train = split_paths(tmp_path, "g", "e", "t", "train")[0]
    assert np.load(embd_train, mmap_mode="r").flags.f_contiguous
    cache = tmp_path / "cache"
    for _ in range(2):
        data = load_embeddings(root=str(tmp_path), generator="g", embedder="e", task="t", cache_dir=str(cache))
        assert data.train_embeddings.flags.c_contiguous and isinstance(data.train_embeddings, np.memmap)
        np.testing.assert_array_equal(data.train_embeddings, values)
    assert calls == [embd_train.name]
    assert data.files[0] == embd_train, "provenance still names the user's file, not the cached copy"

    np.save(embd_train, np.asfortranarray(values * 2))
    os.utime(embd_train, ns=(3, 3))
    data = load_embeddings(root=str(tmp_path), generator="g", embedder="e", task="t", cache_dir=str(cache))
    np.testing.assert_array_equal(data.train_embeddings, values * 2)
    assert calls == [embd_train.name] * 2


def test_fortran_ordered_rows_are_read_without_copying_the_file(tmp_path):
    values = np.random.default_rng(1).standard_normal((400, 5, 64)).astype(np.float32)  # 512 KB
    write_setup(tmp_path, np.asfortranarray(values))
    data = load_embeddings(root=str(tmp_path), generator="g", embedder="e", task="t", cache_dir=None)
    assert data.train_embeddings.flags.f_contiguous and not data.train_embeddings.flags.c_contiguous
    ids = np.array([1999, 0, 7, 1234, 7])
    tracemalloc.start()
    rows = data.response_embeddings(ids)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    np.testing.assert_array_equal(rows, values.reshape(-1, 64)[ids])
    assert peak < values.nbytes // 10, f"{peak} bytes allocated: the whole array was copied"


def test_a_file_replaced_with_the_same_size_and_mtime_is_hashed_again(tmp_path):
    """``cp -p``, ``rsync -a`` and ``tar`` keep size and mtime; the inode and ctime still tell the versions apart."""
    data, cache = tmp_path / "a.npy", tmp_path / "cache"
    data.write_bytes(b"one")
    os.utime(data, ns=(7, 7))
    first = cached_checksum(data, cache)
    replacement = tmp_path / "b.npy"
    replacement.write_bytes(b"two")
    os.utime(replacement, ns=(7, 7))
    os.replace(replacement, data)  # same path, size and mtime; a new inode
    assert cached_checksum(data, cache) == file_checksum(data) != first
    with open(data, "r+b") as handle:  # the same inode, written in place, then re-dated
        handle.write(b"six")
    os.utime(data, ns=(7, 7))
    assert cached_checksum(data, cache) == file_checksum(data) == hashlib.blake2b(b"six", digest_size=16).hexdigest()
