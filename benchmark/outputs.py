"""Everything a run writes to its folder, each file written atomically so nothing is half-written.

Layout: ``config.yaml`` (resolved), ``metrics.jsonl`` (one line per round, deterministic),
``timings.jsonl`` (wall-clock seconds per round, kept apart so metrics stay byte-identical),
``selections/round_NNN.npz`` (labelled pairs as flat train ids, and their labels), ``summary.json``.
"""

import io
import json
import math
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
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


def atomic_write_json(path: Path, payload: Any) -> None:
    atomic_write_text(path, json.dumps(payload, indent=2, sort_keys=True) + "\n")


def json_line(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True) + "\n"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class RunFolder:
    """The output folder of one run."""

    def __init__(self, root: Path):
        self.root = Path(root)

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def timings(self) -> Path:
        return self.root / "timings.jsonl"

    @property
    def summary(self) -> Path:
        return self.root / "summary.json"

    def selection(self, round_index: int) -> Path:
        return self.root / "selections" / f"round_{round_index:03d}.npz"

    def read_summary(self) -> dict[str, Any] | None:
        return json.loads(self.summary.read_text()) if self.summary.exists() else None

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


def format_round_table(rows: list[dict[str, Any]], timings: list[dict[str, Any]], bon_n: int) -> str:
    """The per-round table printed at the end of a run."""
    header = f"{'round':>5} {'n_labels':>8} {'spearman':>9} {f'bon/{bon_n}':>9} {'select s':>9} {'train s':>8}"
    lines = [header, "-" * len(header)]
    for row, timing in zip(rows, timings, strict=True):
        lines.append(
            f"{row['round']:>5} {row['n_labels']:>8} {row['spearman']:>9.4f} {row[f'bon/{bon_n}']:>9.4f} "
            f"{timing['selection_seconds']:>9.3f} {timing['train_seconds']:>8.2f}"
        )
    return "\n".join(lines)
