"""Whole-file work (NaN/inf scan, checksum) is done once per file version, not once per run of a sweep."""

import os

import numpy as np
import pytest

from benchmark.data import validate
from benchmark.data.embeddings import load_embeddings
from benchmark.data.files import split_paths
from benchmark.errors import UserError
from benchmark.provenance import cached_checksum, file_checksum


def write_setup(root, embd_train: np.ndarray) -> None:
    for split, embeddings in (("train", embd_train), ("test", np.ones((3, 4, embd_train.shape[2]), np.float16))):
        embd_path, reward_path = split_paths(root, "g", "e", "t", split)
        np.save(embd_path, embeddings)
        np.save(reward_path, np.zeros((*embeddings.shape[:2], 1), np.float32))


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
