"""The resume state of a run, so a killed run continues from its last complete round with identical results.

Every random draw is keyed by ``(seed, stream, round)`` (benchmark/rng.py) and label noise by the pair
itself, so no RNG state needs saving. What a later round depends on is small: the labelled pairs and
labels (already in ``selections/round_NNN.npz``), the metrics so far (``metrics.jsonl``,
``timings.jsonl``) and the reward model after the last round (it scores the next round's pool, and is
the start of training under ``warm_start``). That model goes to ``checkpoint.pt``, written last in a
round and atomically: it is the round's commit point, and lines of a later, unfinished round are dropped.

Atomic writes keep files whole, but a disk error, a copy cut short or a hand edit can still damage one:
any file that cannot be read back stops the resume with one line naming it and the fix, never a raw
unpickling, zip or JSON error.
"""

import io
import pickle
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmark.errors import UserError
from benchmark.outputs import RunFolder, atomic_write_bytes, atomic_write_text, damaged, parse_jsonl, read_text

START_AGAIN = "pass overwrite=true to start this run again"
#: What reading a damaged .pt or .npz raises: torch's zip reader (RuntimeError), pickle, zipfile, numpy.
UNREADABLE = (OSError, EOFError, RuntimeError, ValueError, KeyError, TypeError, pickle.UnpicklingError,
              zipfile.BadZipFile)


@dataclass(frozen=True)
class ResumeState:
    """What a resumed run starts from: rounds ``0..last_round`` are complete."""

    last_round: int
    model: dict[str, torch.Tensor]
    pairs: np.ndarray
    labels: np.ndarray
    records: list[dict[str, Any]]
    timings: list[dict[str, Any]]


def save(folder: RunFolder, round_index: int, model: torch.nn.Module) -> None:
    """Commit round ``round_index``: call after its selection, metrics and timings are written."""
    buffer = io.BytesIO()
    torch.save({"round": round_index, "model": model.state_dict()}, buffer)
    atomic_write_bytes(folder.checkpoint, buffer.getvalue())


def load(folder: RunFolder, device: torch.device) -> ResumeState | None:
    """The state after the last committed round, with the jsonl files cut back to it; None if none committed."""
    _remove_temporaries(folder)
    if not folder.checkpoint.exists():
        return None
    last, model = _read_checkpoint(folder.checkpoint, device)
    records = _committed_lines(folder, folder.metrics, last)
    timings = _committed_lines(folder, folder.timings, last)
    selections = [folder.selection(r) for r in range(last + 1)]
    missing = [p.name for p in selections if not p.exists()]
    if missing:
        raise _inconsistent(folder, last, f"selections {', '.join(missing)} are missing")
    pairs, labels = zip(*(_read_selection(selection) for selection in selections), strict=True)
    return ResumeState(last, model, np.concatenate(pairs), np.concatenate(labels), records, timings)


def _read_checkpoint(file: Path, device: torch.device) -> tuple[int, dict[str, torch.Tensor]]:
    """The last committed round and the model after it."""
    try:
        saved = torch.load(file, map_location=device, weights_only=True)
        last, model = int(saved["round"]), saved["model"]
    except UNREADABLE as err:
        raise damaged(file, f"{type(err).__name__}: {err}", START_AGAIN) from err
    if last < 0 or not isinstance(model, dict):
        raise damaged(file, "not a checkpoint of this benchmark", START_AGAIN)
    return last, model


def _read_selection(file: Path) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (n, 2) and labels (n,) labelled in one round."""
    try:
        with np.load(file) as arrays:
            pairs, labels = arrays["pairs"], arrays["labels"]
    except UNREADABLE as err:
        raise damaged(file, f"{type(err).__name__}: {err}", START_AGAIN) from err
    if pairs.ndim != 2 or pairs.shape[1:] != (2,) or labels.shape != (len(pairs),):
        raise damaged(file, f"pairs {pairs.shape} and labels {labels.shape} do not match", START_AGAIN)
    return pairs, labels


def _committed_lines(folder: RunFolder, jsonl: Path, last_round: int) -> list[dict[str, Any]]:
    """Records of rounds ``0..last_round``; rewrites the file without the lines of an uncommitted round."""
    lines = read_text(jsonl, START_AGAIN).splitlines(keepends=True) if jsonl.exists() else []
    kept = lines[: last_round + 1]
    records = parse_jsonl(jsonl, kept, START_AGAIN)
    if [r.get("round") for r in records] != list(range(last_round + 1)):
        raise _inconsistent(folder, last_round, f"{jsonl.name} does not hold rounds 0-{last_round}")
    if len(lines) > len(kept):
        atomic_write_text(jsonl, "".join(kept))
    return records


def _inconsistent(folder: RunFolder, last_round: int, what: str) -> UserError:
    return UserError(
        f"cannot resume {folder.root}: {RunFolder.CHECKPOINT} says round {last_round} is complete but {what}; "
        f"{START_AGAIN}"
    )


def clear(folder: RunFolder) -> None:
    """Remove every result of a run (for overwrite=true or a run that never completed a round)."""
    for file in (folder.metrics, folder.timings, folder.summary, folder.checkpoint):
        file.unlink(missing_ok=True)
    shutil.rmtree(folder.selections, ignore_errors=True)
    _remove_temporaries(folder)


def _remove_temporaries(folder: RunFolder) -> None:
    """Temporary files of atomic writes that a killed process left behind (never the files themselves)."""
    for temporary in (*folder.root.glob(".*.tmp"), *folder.selections.glob(".*.tmp")):
        temporary.unlink(missing_ok=True)
