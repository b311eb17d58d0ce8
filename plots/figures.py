"""The paper-style learning-curve figure: metric rows × one panel per setting, one line per selector.

Each line is the mean over seeds with a shaded Student-t interval. Optional rows show the paired
difference to random (same seed), where a band that excludes 0 is a difference the seeds agree on.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from plots.curves import BASELINE, SPEARMAN, Curves, baseline_line, metric_curves, paired_difference
from plots.intervals import LEVEL, t_interval
from plots.loading import Setting
from plots.style import colour, display_name, line_width


@dataclass(frozen=True)
class Row:
    metric: str
    label: str
    paired: bool = False


def rows_for(bon_key: str, paired: bool) -> list[Row]:
    n = bon_key.split("/")[1]
    rows = [Row(SPEARMAN, "1 − Spearman  (lower is better)"), Row(bon_key, f"best-of-{n} golden reward  (higher)")]
    if paired:
        rows += [Row(SPEARMAN, "Δ 1 − Spearman vs random", True), Row(bon_key, f"Δ best-of-{n} vs random", True)]
    return rows


def line_curves(setting: Setting, line: str, row: Row) -> Curves | None:
    curves = metric_curves(setting.lines[line], row.metric)
    if not row.paired:
        return curves
    baseline = baseline_line(setting)
    if baseline is None or baseline == line:
        return None
    return paired_difference(curves, metric_curves(setting.lines[baseline], row.metric))


def draw_panel(axis: Any, setting: Setting, row: Row, level: float) -> dict[str, Any]:
    """Draw every line of ``setting`` for ``row``; returns legend handles by line name."""
    handles = {}
    observed: list[np.ndarray] = []
    for line in setting.ordered_lines():
        curves = line_curves(setting, line, row)
        if curves is None:
            continue
        selector = setting.selector_of(line)
        observed.append(curves.values)
        interval = t_interval(curves.values, level)
        (handle,) = axis.plot(curves.n_labels, interval.mean, color=colour(selector), lw=line_width(selector),
                              marker="o" if len(curves.n_labels) < 15 else None, ms=2.5)
        if interval.n > 1:
            axis.fill_between(curves.n_labels, interval.low, interval.high, color=colour(selector), alpha=0.15,
                              lw=0)
        label = display_name(selector) + line.removeprefix(selector)
        handles[label] = handle
    if row.paired:
        axis.axhline(0.0, color=colour(BASELINE), lw=1.0, ls="--")
        if not handles:
            axis.text(0.5, 0.5, "no random runs to pair with", ha="center", va="center", transform=axis.transAxes)
    if observed:
        clip_to_observed(axis, np.concatenate([v.ravel() for v in observed]))
    axis.grid(alpha=0.3)
    return handles


def clip_to_observed(axis: Any, values: np.ndarray) -> None:
    """Show the range the seeds actually reached: with 2-3 seeds a t band can be many times wider, and
    letting it set the axis would flatten every mean curve into a line."""
    low, high = float(values.min()), float(values.max())
    pad = 0.08 * (high - low) or 0.05 * (abs(high) or 1.0)
    axis.set_ylim(low - pad, high + pad)


def seeds_note(settings: Sequence[Setting], level: float) -> str:
    counts = sorted({len(runs) for s in settings for runs in s.lines.values()})
    if counts[-1] == 1:
        return "one seed per line: no interval"
    seeds = str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
    return f"mean and {100 * level:g}% Student-t interval over seeds (n = {seeds})"


def curves_figure(
    settings: Sequence[Setting], bon_key: str, paired: bool = False, columns: int = 4, level: float = LEVEL
) -> Any:
    """One figure: for each block of ``columns`` settings, one row per metric."""
    from plots.render import pyplot

    rows = rows_for(bon_key, paired)
    width = min(columns, len(settings))
    blocks = math.ceil(len(settings) / width)
    figure, axes = pyplot().subplots(
        blocks * len(rows), width, figsize=(3.6 * width + 0.6, 2.4 * blocks * len(rows) + 1.0), squeeze=False,
        layout="constrained",
    )
    handles: dict[str, Any] = {}
    for index, setting in enumerate(settings):
        block, column = divmod(index, width)
        for r, row in enumerate(rows):
            axis = axes[block * len(rows) + r, column]
            handles.update(draw_panel(axis, setting, row, level))
            if r == 0:
                axis.set_title(setting.label, fontsize=10)
            if column == 0:
                axis.set_ylabel(row.label, fontsize=8)
            if r == len(rows) - 1:
                axis.set_xlabel("labelled pairs")
    for index in range(len(settings), blocks * width):
        block, column = divmod(index, width)
        for r in range(len(rows)):
            axes[block * len(rows) + r, column].set_visible(False)
    figure.suptitle(seeds_note(settings, level), fontsize=9)
    figure.legend(list(handles.values()), list(handles), loc="outside lower center",
                  ncol=min(len(handles), 2 + 2 * width), frameon=False, fontsize=9)
    return figure
