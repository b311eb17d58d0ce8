"""The paper-style learning-curve figure: metric rows × one panel per setting, one line per selector.

Each line is the mean over seeds with a shaded band (named in the title): the Student-t interval from 5 seeds,
±1 standard error below that (a 95 % t band is ±12.7 standard errors at 2 seeds and hides every line), none
for one seed. Optional rows show the paired difference to random (same seed), where a band that stays on one
side of 0 is a difference the seeds agree on. The legend lists the lines best first.
"""

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from benchmark.metrics import Metric
from plots.curves import BASELINE, Curves, baseline_line, line_order, metric_curves, paired_difference
from plots.intervals import LEVEL, band_interval, default_band
from plots.loading import CHANGED_MARK, settings
from plots.style import colour, display_name, line_width

log = logging.getLogger(__name__)

#: Below this many seeds per line the figure warns that its differences are not reliable.
FEW_SEEDS = 3


@dataclass(frozen=True)
class Row:
    metric: Metric
    paired: bool = False

    @property
    def label(self) -> str:
        better = self.metric.lower_is_better
        if not self.paired:
            note = "" if better is None else "  (lower is better)" if better else "  (higher is better)"
            return self.metric.label + note
        side = "" if better is None else "\n(below 0 = better than random)" if better else "\n(above 0 = better)"
        return f"Δ {self.metric.label} vs random{side}"


def rows_for(metrics: Sequence[Metric], paired: bool) -> list[Row]:
    return [Row(m) for m in metrics] + ([Row(m, True) for m in metrics] if paired else [])


def line_curves(rows: pd.DataFrame, line: str, row: Row, x: str = "n_labels") -> Curves | None:
    """The line's curves (or paired difference to random) at its rounds; with ``x`` other than n_labels (e.g. the
    annotation cost), each round is placed at the line's mean ``x`` over seeds."""
    mine = rows[rows["line"] == line]
    curves = metric_curves(mine, row.metric.key)
    if row.paired:
        baseline = baseline_line(rows)
        if baseline is None or baseline == line:
            return None
        curves = paired_difference(curves, metric_curves(rows[rows["line"] == baseline], row.metric.key))
    if curves is None or x == "n_labels":
        return curves
    return replace(curves, n_labels=mine.groupby("n_labels")[x].mean().loc[curves.n_labels].to_numpy())


def legend_label(rows: pd.DataFrame, line: str) -> str:
    selector = str(rows.loc[rows["line"] == line, "selector"].iloc[0])
    changed = rows.loc[rows["line"] == line, "inputs_changed"].any()
    return display_name(selector) + line.removeprefix(selector) + (f" {CHANGED_MARK}" if changed else "")


def draw_panel(axis: Any, rows: pd.DataFrame, order: Sequence[str], row: Row, band: str,
               level: float, x: str = "n_labels") -> dict[str, Any]:
    """Draw the lines of one setting's ``rows`` for ``row``, in ``order``; returns legend handles by line."""
    handles = {}
    observed: list[np.ndarray] = []
    for line in [name for name in order if (rows["line"] == name).any()]:
        curves = line_curves(rows, line, row, x)
        if curves is None:
            continue
        selector = str(rows.loc[rows["line"] == line, "selector"].iloc[0])
        observed.append(curves.values)
        interval = band_interval(curves.values, band, level)
        (handle,) = axis.plot(curves.n_labels, interval.mean, color=colour(selector), lw=line_width(selector),
                              marker="o" if len(curves.n_labels) < 15 else None, ms=2.5)
        if np.isfinite(interval.low).any():
            axis.fill_between(curves.n_labels, interval.low, interval.high, color=colour(selector), alpha=0.15,
                              lw=0)
        handles[line] = handle
    if row.paired:
        axis.axhline(0.0, color=colour(BASELINE), lw=1.0, ls="--")
        if not handles:
            axis.text(0.5, 0.5, "no random runs to pair with", ha="center", va="center", transform=axis.transAxes)
    if observed:
        clip_to_observed(axis, np.concatenate([v.ravel() for v in observed]))
    axis.grid(alpha=0.3)
    return handles


def clip_to_observed(axis: Any, values: np.ndarray) -> None:
    """Show the range the seeds actually reached: a band can be many times wider, and letting it set the axis
    would flatten every mean curve into a line. NaN (null) values are left out."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return
    low, high = float(finite.min()), float(finite.max())
    pad = 0.08 * (high - low) or 0.05 * (abs(high) or 1.0)
    axis.set_ylim(low - pad, high + pad)


def seed_counts(frame: pd.DataFrame) -> list[int]:
    """The distinct numbers of seeds per (setting, line), ascending."""
    return sorted(frame.groupby(["setting", "line"], observed=True)["seed"].nunique().unique().tolist())


def band_for(frame: pd.DataFrame, requested: str | None) -> str:
    """``requested``, or the default for the fewest seeds any line has; warns below :data:`FEW_SEEDS` seeds."""
    fewest = seed_counts(frame)[0]
    if fewest < FEW_SEEDS:
        log.warning("only %d seed(s) for some line: the curves' differences are not reliable; run at least %d "
                    "(the paper uses 5)", fewest, FEW_SEEDS)
    return requested or default_band(fewest)


def band_note(frame: pd.DataFrame, band: str, level: float) -> str:
    """The title: what the line and the band are, over how many seeds."""
    counts = seed_counts(frame)
    seeds = str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
    shaded = {"ci": f"shaded: {100 * level:g}% Student-t interval", "se": "shaded: ±1 standard error",
              "none": "no band"}[band]
    if counts[-1] == 1:
        shaded = "no band"
    warning = f"  —  fewer than {FEW_SEEDS} seeds: differences are not reliable" if counts[0] < FEW_SEEDS else ""
    return f"mean over seeds (n = {seeds}); {shaded}{warning}"


def row_major(items: Sequence[str], ncol: int) -> list[str]:
    """``items`` rearranged so that matplotlib, which fills legend columns first (the first ``len % ncol``
    columns one entry longer), shows them row by row: best first reads left to right."""
    rows, long_columns = divmod(len(items), ncol)
    return [items[r * ncol + c] for c in range(ncol) for r in range(rows + (c < long_columns))]


def curves_figure(frame: pd.DataFrame, metrics: Sequence[Metric], paired: bool = False, columns: int = 4,
                  band: str | None = None, level: float = LEVEL, x: str = "n_labels",
                  x_label: str = "labelled pairs") -> Any:
    """One figure: for each block of ``columns`` settings, one row per metric (then per paired difference), against
    ``x`` (a frame column: labels, or the annotation cost of plots.cost)."""
    from plots.render import pyplot

    band = band_for(frame, band)
    rows = rows_for(metrics, paired)
    panels = settings(frame)
    ranked_by = next((m for m in metrics if m.lower_is_better is not None), metrics[0])
    order = line_order(frame, ranked_by)
    width = min(columns, len(panels))
    blocks = math.ceil(len(panels) / width)
    figure, axes = pyplot().subplots(
        blocks * len(rows), width, figsize=(3.6 * width + 0.6, 2.4 * blocks * len(rows) + 1.0), squeeze=False,
        layout="constrained",
    )
    handles: dict[str, Any] = {}
    for index, setting in enumerate(panels):
        block, column = divmod(index, width)
        setting_rows = frame[frame["setting"] == setting]
        for r, row in enumerate(rows):
            axis = axes[block * len(rows) + r, column]
            handles.update(draw_panel(axis, setting_rows, order, row, band, level, x))
            if r == 0:
                axis.set_title(setting, fontsize=10)
            if column == 0:
                axis.set_ylabel(row.label, fontsize=8)
            if r == len(rows) - 1:
                axis.set_xlabel(x_label)
    for index in range(len(panels), blocks * width):
        block, column = divmod(index, width)
        for r in range(len(rows)):
            axes[block * len(rows) + r, column].set_visible(False)
    figure.suptitle(band_note(frame, band, level), fontsize=9)
    ncol = min(len(handles), 2 + 2 * width)
    lines = row_major([line for line in order if line in handles], ncol)
    figure.legend([handles[line] for line in lines], [legend_label(frame, line) for line in lines],
                  loc="outside lower center", ncol=ncol, frameon=False, fontsize=9,
                  title=f"best final {ranked_by.label} first" if ranked_by.lower_is_better is not None else None,
                  title_fontsize=8)
    return figure
