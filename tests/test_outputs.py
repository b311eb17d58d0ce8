"""Run files get the umask's permissions, and JSON output holds null where a number is NaN or infinite."""

import json
import math
import os
import stat

import numpy as np
import pytest

from benchmark import outputs
from benchmark.outputs import RunFolder, atomic_write_json, atomic_write_text, finite_json, json_line, umask


@pytest.fixture
def process_umask():
    """Set the process umask for one test, and let :func:`umask` read it afresh."""
    previous = os.umask(0o022)
    os.umask(previous)

    def _set(mask: int) -> None:
        os.umask(mask)
        umask.cache_clear()

    yield _set
    os.umask(previous)
    umask.cache_clear()


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600), (0o000, 0o666)])
def test_atomic_writes_honour_the_umask(tmp_path, process_umask, mask, mode):
    process_umask(mask)
    assert umask() == mask
    atomic_write_text(tmp_path / "config.yaml", "seed: 0\n")
    folder = RunFolder(tmp_path / "run")
    folder.save_selection(0, np.zeros((1, 2), np.int64), np.zeros(1, np.int8))
    for path in (tmp_path / "config.yaml", folder.selection(0)):
        assert stat.S_IMODE(path.stat().st_mode) == mode, path


def test_umask_without_proc_is_read_and_restored(tmp_path, process_umask, monkeypatch):
    process_umask(0o027)
    monkeypatch.setattr(outputs, "PROC_STATUS", tmp_path / "missing")
    umask.cache_clear()
    assert umask() == 0o027
    assert os.umask(0o027) == 0o027, "reading the umask must leave it as it was"


def test_json_holds_null_for_nan_and_infinity(tmp_path):
    record = {"round": 1, "spearman": math.nan, "bon": [1.0, math.inf, -math.inf], "nested": {"x": np.float64("nan")},
              "ok": 0.25, "label": "nan", "flag": True}
    line = json_line(record)
    assert "NaN" not in line and "Infinity" not in line
    assert json.loads(line) == {"round": 1, "spearman": None, "bon": [1.0, None, None], "nested": {"x": None},
                                "ok": 0.25, "label": "nan", "flag": True}
    atomic_write_json(tmp_path / "summary.json", {"auc": math.nan, "final": record})
    summary = json.loads((tmp_path / "summary.json").read_text(), parse_constant=lambda c: pytest.fail(c))
    assert summary["auc"] is None and summary["final"]["bon"] == [1.0, None, None]


def test_finite_json_leaves_finite_values_alone():
    value = {"a": [1, 2.5, (3, 4.0)], "b": None, "c": "x"}
    assert finite_json(value) == {"a": [1, 2.5, [3, 4.0]], "b": None, "c": "x"}
