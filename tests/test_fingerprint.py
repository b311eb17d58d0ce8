"""A run's input fingerprint records data, generator, version and source, and names what changed."""

import hashlib
import os
from pathlib import Path

import pytest

from benchmark import provenance
from benchmark.paths import REPO_ROOT
from benchmark.provenance import file_checksum, fingerprint_changes, input_fingerprint, source_hash


@pytest.fixture
def sources(tmp_path, monkeypatch) -> Path:
    """A fake package tree (pkg/*.py, conf/*.yaml) hashed in place of the real one."""
    root = tmp_path / "repo"
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "conf").mkdir()
    (root / "pkg" / "a.py").write_text("A = 1\n")
    (root / "pkg" / "sub" / "b.py").write_text("B = 2\n")
    (root / "conf" / "config.yaml").write_text("seed: 0\n")
    monkeypatch.setattr(provenance, "SOURCES", ((root / "pkg", (".py",)), (root / "conf", (".yaml",))))
    return root


def test_source_hash_follows_names_and_contents_of_source_files_only(sources):
    first = source_hash()
    assert first == source_hash()
    (sources / "pkg" / "__pycache__").mkdir()
    (sources / "pkg" / "__pycache__" / "a.cpython-311.py").write_text("junk")
    (sources / "pkg" / "notes.txt").write_text("not source")
    (sources / "conf" / "link").symlink_to(sources / "pkg")  # a linked folder is not walked twice
    assert source_hash() == first
    (sources / "pkg" / "sub" / "b.py").write_text("B = 3\n")
    changed = source_hash()
    assert changed != first
    (sources / "pkg" / "sub" / "b.py").rename(sources / "pkg" / "sub" / "c.py")
    assert source_hash() not in (first, changed), "a renamed file is a change"


def test_source_hash_is_an_independent_digest_of_the_files_in_walk_order(sources):
    """Roots in SOURCES order (pkg, then conf), files sorted within each, named relative to the repository."""
    expected = hashlib.blake2b(digest_size=16)
    for name in ("pkg/a.py", "pkg/sub/b.py", "conf/config.yaml"):
        content = (sources / name).read_bytes()
        expected.update(name.encode() + b"\0" + hashlib.blake2b(content, digest_size=16).digest())
    assert source_hash() == expected.hexdigest()


def test_input_fingerprint_records_checksums_generator_version_source_and_git(tmp_path):
    data = tmp_path / "embd_g_e_t_train.npy"
    data.write_bytes(b"\x93NUMPY fake")
    generator = {"_target_": "benchmark.data.synthetic.load_synthetic", "dim": 16, "seed": 0}  # result keys only
    fingerprint = input_fingerprint([data], generator, tmp_path / "cache")
    assert fingerprint["data_files"] == {data.name: file_checksum(data)}
    assert fingerprint["generator"] == generator
    assert fingerprint["version"] and fingerprint["source"] == source_hash()
    git = fingerprint["git"]
    assert git is None or (len(git["commit"]) == 40 and isinstance(git["dirty"], bool))
    assert input_fingerprint(None, None, tmp_path / "cache")["data_files"] is None


def test_git_state_only_for_a_checkout_whose_top_level_is_the_repository(tmp_path, monkeypatch):
    monkeypatch.setattr(provenance, "REPO_ROOT", tmp_path)
    assert provenance.git_state() is None
    if (REPO_ROOT / ".git").exists():
        monkeypatch.setattr(provenance, "REPO_ROOT", REPO_ROOT / "benchmark")  # inside a checkout, not its top
        assert provenance.git_state() is None


BASE = {"data_files": {"embd_train.npy": "aa", "reward_train.npy": "bb"}, "generator": None, "version": "0.1.0",
        "source": "s1", "git": {"commit": "c1", "dirty": False}}


@pytest.mark.parametrize(("change", "phrases"), [
    ({}, []),
    ({"git": {"commit": "c2", "dirty": True}}, []),
    ({"data_files": {"embd_train.npy": "zz", "reward_train.npy": "bb"}}, ["data file embd_train.npy changed"]),
    ({"data_files": {"embd_train.npy": "aa"}}, ["data file reward_train.npy is no longer used"]),
    ({"data_files": {**BASE["data_files"], "x.npy": "cc"}}, ["data file x.npy is new"]),
    ({"version": "0.2.0"}, ["arm-bench version changed (0.1.0 -> 0.2.0)"]),
    ({"source": "s2", "git": {"commit": "c2", "dirty": False}}, ["package source changed"]),
    ({"source": "s2", "version": "0.2.0"}, ["arm-bench version changed (0.1.0 -> 0.2.0)", "package source changed"]),
])
def test_fingerprint_changes_name_what_changed(change, phrases):
    assert fingerprint_changes(BASE, {**BASE, **change}) == phrases


def test_generator_changes_name_the_parameters():
    old = {**BASE, "data_files": None, "generator": {"dim": 16, "seed": 0, "noise": 0.1}}
    new = {**old, "generator": {"dim": 32, "seed": 0, "noise": 0.2}}
    assert fingerprint_changes(old, new) == ["generated data's parameters changed (dim, noise)"]


def test_fields_an_older_fingerprint_did_not_record_are_not_compared():
    assert fingerprint_changes({"source": "s1"}, BASE) == []
    assert fingerprint_changes({}, BASE) == []


def test_checksums_are_remembered_per_file_version(tmp_path):
    data = tmp_path / "a.npy"
    data.write_bytes(b"one")
    cache = tmp_path / "cache"
    first = input_fingerprint([data], None, cache)["data_files"]
    data.write_bytes(b"two")
    os.utime(data, ns=(5, 5))
    assert input_fingerprint([data], None, cache)["data_files"] != first
