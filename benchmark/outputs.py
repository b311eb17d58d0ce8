"""Everything a run writes to its folder, each file written atomically so nothing is half-written.

Layout: ``config.yaml`` (resolved result-defining config), ``metrics.jsonl`` (one line per round, deterministic),
``timings.jsonl`` (wall-clock seconds per round, kept apart so metrics stay byte-identical),
``selections/round_NNN.npz`` (labelled pairs as flat train ids, and their labels), ``summary.json``; the runner adds
``inputs.json`` (benchmark.runner), the checkpoint (benchmark.checkpoint) and the lock (benchmark.lock).
See docs/outputs.md.

Files get the permissions of any other new file (``0o666`` less the umask), so a run folder shared by a
group stays readable by it. JSON never holds bare ``NaN``/``Infinity`` (not JSON, and many readers refuse
them): a non-finite float is written as ``null``.
"""

import functools
import io
import json
import math
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.errors import UserError
from benchmark.metrics import round_table_metrics

PROC_STATUS = Path("/proc/self/status")
#: Longest library error message quoted in a damaged-file error.
REASON_CHARS = 160


@functools.cache
def umask() -> int:
    """The process umask, read once: from /proc where it can be read without changing it.

    ``os.umask`` can only be read by setting it, which races with threads creating files meanwhile, so it is
    the fallback for systems without /proc (and is done once).
    """
    try:
        for line in PROC_STATUS.read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over ``path``.

    ``mkstemp`` creates the file 0600; it gets the umask's permissions before it takes the final name.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(handle, 0o666 & ~umask())
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def finite_json(value: Any) -> Any:
    """``value`` with every NaN/inf float (at any depth of dicts, lists, tuples) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(item) for item in value]
    return value


def atomic_write_json(path: Path, payload: Any) -> None:
    atomic_write_text(path, json.dumps(finite_json(payload), indent=2, sort_keys=True, allow_nan=False) + "\n")


def json_line(record: dict[str, Any]) -> str:
    return json.dumps(finite_json(record), sort_keys=True, allow_nan=False) + "\n"


def parse_jsonl(path: Path, lines: Iterable[str], fix: str) -> list[dict[str, Any]]:
    """One record per non-blank line; a line that is not a JSON object is a UserError naming file, line and fix."""
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as err:
            raise damaged(path, f"line {number} is not JSON: {err}", fix) from err
        if not isinstance(record, dict):
            raise damaged(path, f"line {number} is not a JSON object", fix)
        records.append(record)
    return records


def read_text(path: Path, fix: str) -> str:
    """The file as text; unreadable bytes (a garbled file) are a UserError naming it and the fix."""
    try:
        return path.read_text()
    except UnicodeDecodeError as err:
        raise damaged(path, f"not text: {err.reason} at byte {err.start}", fix) from err


def read_jsonl(path: Path, fix: str = "delete it and rerun what wrote it") -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return parse_jsonl(path, read_text(path, fix).splitlines(), fix)


def damaged(path: Path, reason: str, fix: str) -> UserError:
    """The one-line error for a run file that exists but cannot be read back (long library messages cut short)."""
    reason = " ".join(reason.split())
    if len(reason) > REASON_CHARS:
        reason = reason[: REASON_CHARS - 3] + "..."
    return UserError(f"{path} is damaged ({reason}); {fix}")


class RunFolder:
    """The output folder of one run: the one home of its file names."""

    CONFIG, METRICS, TIMINGS, SUMMARY = "config.yaml", "metrics.jsonl", "timings.jsonl", "summary.json"
    #: What the results depend on besides the config (written at round 0); the resume state; each round's pairs.
    INPUTS, CHECKPOINT, SELECTIONS = "inputs.json", "checkpoint.pt", "selections"
    #: Hydra's record of the run's group choices (``.hydra/hydra.yaml``), when Hydra made the folder.
    HYDRA_RECORD = Path(".hydra") / "hydra.yaml"

    def __init__(self, root: Path):
        self.root = Path(root)

    @property
    def read_only(self) -> bool:
        """An existing folder this process cannot write into (its permissions, or a read-only mount)."""
        return self.root.is_dir() and not os.access(self.root, os.W_OK)

    @property
    def config(self) -> Path:
        return self.root / self.CONFIG

    @property
    def metrics(self) -> Path:
        return self.root / self.METRICS

    @property
    def timings(self) -> Path:
        return self.root / self.TIMINGS

    @property
    def summary(self) -> Path:
        return self.root / self.SUMMARY

    @property
    def inputs(self) -> Path:
        return self.root / self.INPUTS

    @property
    def checkpoint(self) -> Path:
        return self.root / self.CHECKPOINT

    @property
    def selections(self) -> Path:
        return self.root / self.SELECTIONS

    @property
    def hydra_record(self) -> Path:
        return self.root / self.HYDRA_RECORD

    def selection(self, round_index: int) -> Path:
        return self.selections / f"round_{round_index:03d}.npz"

    def read_summary(self) -> dict[str, Any] | None:
        """The summary, or None before a run ends; a damaged one is a UserError saying how to get past it."""
        if not self.summary.exists():
            return None
        fix = "delete it (the run then resumes or is redone) or pass overwrite=true"
        try:
            summary = json.loads(read_text(self.summary, fix))
        except ValueError as err:
            raise damaged(self.summary, f"not JSON: {err}", fix) from err
        if not isinstance(summary, dict):
            raise damaged(self.summary, "not a JSON object", fix)
        return summary

    def append_records(self, path: Path, records: Iterable[dict[str, Any]]) -> None:
        """Rewrite the jsonl file with the new records appended, atomically (rounds are few)."""
        existing = path.read_text() if path.exists() else ""
        atomic_write_text(path, existing + "".join(json_line(r) for r in records))

    def save_selection(self, round_index: int, pairs: np.ndarray, labels: np.ndarray) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, pairs=pairs, labels=labels)
        atomic_write_bytes(self.selection(round_index), buffer.getvalue())


def area_under_curve(x: Sequence[float], y: Sequence[float]) -> float:
    """Trapezoid area under y(x), divided by the x range, so runs of different budgets compare."""
    if len(x) < 2 or x[-1] == x[0]:
        return float(y[0]) if len(y) else math.nan
    return float(np.trapezoid(y, x) / (x[-1] - x[0]))


def format_round_table(rows: list[dict[str, Any]], timings: list[dict[str, Any]], bon_key: str) -> str:
    """The per-round table printed at the end of a run: the registry's round-table metrics (BoN at ``bon_key``)."""
    keys = [m.key for m in round_table_metrics(bon_key)]
    header = " ".join([f"{'round':>5} {'n_labels':>8}", *(f"{key:>9}" for key in keys),
                       f"{'select s':>9} {'train s':>8}"])
    lines = [header, "-" * len(header)]
    for row, timing in zip(rows, timings, strict=True):
        values = [f"{row[key]:>9.4f}" for key in keys]
        lines.append(" ".join([f"{row['round']:>5} {row['n_labels']:>8}", *values,
                               f"{timing['selection_seconds']:>9.3f} {timing['train_seconds']:>8.2f}"]))
    return "\n".join(lines)
