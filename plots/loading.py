"""The runs a figure compares: :func:`benchmark.results.load_runs`, checked and narrowed, and saved as ``runs.csv``.

Plots read the files a run leaves behind, never W&B (offline runs cannot be queried). A setting (panel) and a
line (selector variant) are the tidy frame's ``setting`` and ``line`` columns; this module only removes what
would be counted twice, says which runs need care, and keeps the selectors asked for.
"""

import io
import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from benchmark.errors import UserError
from benchmark.outputs import atomic_write_bytes, atomic_write_text
from benchmark.results import load_runs

log = logging.getLogger(__name__)

#: Marks, in tables and legends, runs not computed on one set of today's inputs: resumed onto changed inputs
#: (allow_changed_inputs), or finished runs whose code or data changed since they ran (inputs_changed_since).
CHANGED_MARK = "†"


def read_runs(folders: Sequence[Path], selectors: Sequence[str] | None = None, strict: bool = False) -> pd.DataFrame:
    """The finished runs under ``folders``, one per setting, line and seed, of the ``selectors`` given (all if
    None); a damaged run is skipped with a warning, or refused with ``strict``."""
    frame = keep_first_of_repeats(load_runs(*folders, strict=strict))
    if selectors:
        frame = only_selectors(frame, selectors)
    changed = frame.loc[frame["inputs_changed"], "run"].unique()
    if len(changed):
        log.warning("%d run(s) were resumed onto changed inputs (allow_changed_inputs) or their inputs changed since "
                    "they finished (overwrite=true redoes them), marked %s: %s",
                    len(changed), CHANGED_MARK, ", ".join(changed))
    return frame


def keep_first_of_repeats(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop runs that repeat a (setting, line, seed) already read, e.g. the same sweep passed twice, with a warning."""
    runs = frame.drop_duplicates("run")
    repeated = runs.duplicated(["setting", "line", "seed"])
    kept = runs[~repeated].set_index(["setting", "line", "seed"])["run"]
    for row in runs[repeated].itertuples():
        log.warning("%s repeats %s (seed %s, %s); keeping %s", row.run, row.line, row.seed, row.setting,
                    kept[row.setting, row.line, row.seed])
    return frame[~frame["run"].isin(runs.loc[repeated, "run"])]


def only_selectors(frame: pd.DataFrame, selectors: Sequence[str]) -> pd.DataFrame:
    """The rows of ``selectors`` (selector labels); an unknown one is a UserError naming those available."""
    available = sorted(frame["selector"].unique())
    unknown = [name for name in selectors if name not in available]
    if unknown:
        raise UserError(f"--selectors {','.join(unknown)}: no such runs; available: {','.join(available)}")
    return frame[frame["selector"].isin(selectors)]


def settings(frame: pd.DataFrame) -> list[str]:
    """The settings present, in their natural order (``b125`` before ``b1000``)."""
    return [str(s) for s in frame["setting"].cat.remove_unused_categories().cat.categories]


def final_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Each run's last round, indexed by run."""
    return frame.sort_values(["run", "n_labels"]).groupby("run").tail(1).set_index("run")


def save_runs(frame: pd.DataFrame, out: Path) -> list[Path]:
    """``runs.csv``, and ``runs.parquet`` when pyarrow is installed (list values become text there)."""
    atomic_write_text(out / "runs.csv", frame.to_csv(index=False))
    written = [out / "runs.csv"]
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return written
    text = {c: frame[c].map(lambda v: v if v is None or isinstance(v, str) else str(v))
            for c in frame.columns if frame[c].dtype == object}
    buffer = io.BytesIO()
    frame.assign(**text).to_parquet(buffer, index=False)
    atomic_write_bytes(out / "runs.parquet", buffer.getvalue())
    return [*written, out / "runs.parquet"]
