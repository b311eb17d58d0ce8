"""A damaged run file stops a resume with one line naming the file and the fix, never a raw library error."""

import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmark import checkpoint
from benchmark.errors import UserError
from benchmark.outputs import RunFolder, read_jsonl

ROUNDS = 2


@pytest.fixture
def folder(tmp_path: Path) -> RunFolder:
    """A run interrupted after round 1: selections, metrics and timings of rounds 0-1, committed, no summary."""
    folder = RunFolder(tmp_path / "run")
    model = torch.nn.Linear(3, 1)
    for round_index in range(ROUNDS):
        pairs = np.arange(8, dtype=np.int64).reshape(4, 2) + 10 * round_index
        folder.save_selection(round_index, pairs, np.array([1, 0, 1, 1], dtype=np.int8))
        folder.append_records(folder.metrics, [{"round": round_index, "spearman": 0.5}])
        folder.append_records(folder.timings, [{"round": round_index, "train_seconds": 0.1}])
        checkpoint.save(folder, round_index, model)
    return folder


def test_the_undamaged_folder_resumes(folder):
    state = checkpoint.load(folder, torch.device("cpu"))
    assert state is not None and state.last_round == ROUNDS - 1
    assert state.pairs.shape == (4 * ROUNDS, 2) and [r["round"] for r in state.records] == [0, 1]


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def garble(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 3 : len(data) // 3 + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))


def npz(path: Path, **arrays: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.write_bytes(buffer.getvalue())


def replace_line(path: Path, index: int, line: bytes) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    lines[index] = line + b"\n"
    path.write_bytes(b"".join(lines))


CHECKPOINT = "checkpoint.pt"
SELECTION = "selections/round_001.npz"
#: (file relative to the run folder, how it is damaged, what the message says after the file name).
DAMAGE: dict[str, tuple[str, Callable[[Path], None], str]] = {
    "checkpoint truncated": (CHECKPOINT, truncate, r"is damaged \("),
    "checkpoint garbled": (CHECKPOINT, garble, r"is damaged \("),
    "checkpoint empty": (CHECKPOINT, lambda p: p.write_bytes(b""), r"is damaged \("),
    "checkpoint of something else": (CHECKPOINT, lambda p: torch.save({"round": 1, "model": 3}, p),
                                     r"is damaged \(not a checkpoint of this benchmark\)"),
    "selection truncated": (SELECTION, truncate, r"is damaged \("),
    "selection garbled": (SELECTION, garble, r"is damaged \("),
    "selection not a zip": (SELECTION, lambda p: p.write_text("pairs,labels\n"), r"is damaged \("),
    "selection without labels": (SELECTION, lambda p: npz(p, pairs=np.zeros((4, 2), np.int64)),
                                 r"is damaged \(KeyError"),
    "selection of the wrong shape": (SELECTION, lambda p: npz(p, pairs=np.zeros((4, 3)), labels=np.zeros(4)),
                                     r"is damaged \(pairs \(4, 3\) and labels \(4,\) do not match\)"),
    "metrics line cut": ("metrics.jsonl", lambda p: replace_line(p, 1, b'{"round": 1, "spear'),
                         r"is damaged \(line 2 is not JSON: "),
    "metrics line not an object": ("metrics.jsonl", lambda p: replace_line(p, 0, b"[0, 0.5]"),
                                   r"is damaged \(line 1 is not a JSON object\)"),
    "timings not text": ("timings.jsonl", lambda p: replace_line(p, 0, b"\xff\xfe{}"),
                         r"is damaged \(not text: invalid start byte at byte 0\)"),
}


@pytest.mark.parametrize(("name", "damage", "says"), DAMAGE.values(), ids=DAMAGE.keys())
def test_damaged_file_is_one_line_naming_it_and_the_fix(folder, name, damage, says):
    damage(folder.root / name)
    with pytest.raises(UserError) as caught:
        checkpoint.load(folder, torch.device("cpu"))
    message = str(caught.value)
    assert message.startswith(f"{folder.root / name} ") and "\n" not in message, message
    assert message.endswith("; pass overwrite=true to start this run again"), message
    assert re.search(says, message), message
    assert len(message) < 400


def test_a_damaged_line_of_an_uncommitted_round_is_dropped_not_refused(folder):
    with folder.metrics.open("ab") as handle:
        handle.write(b'{"round": 2, "spe')  # round 2 never committed: its half line is not read
    state = checkpoint.load(folder, torch.device("cpu"))
    assert state is not None and [r["round"] for r in state.records] == [0, 1]
    assert folder.metrics.read_text().count("\n") == ROUNDS


@pytest.mark.parametrize("content", [b'{"status": "fini', b"[1, 2]", b"\xff\xff"])
def test_damaged_summary_says_to_delete_it(folder, content):
    folder.summary.write_bytes(content)
    with pytest.raises(UserError, match=rf"^{folder.summary} is damaged \(.*\); delete it \(the run then resumes"):
        folder.read_summary()


def test_read_jsonl_names_the_file_and_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text(json.dumps({"round": 0}) + "\n\n" + "{oops\n")
    with pytest.raises(UserError, match=rf"^{path} is damaged \(line 3 is not JSON: .*\); delete it and rerun"):
        read_jsonl(path)
