"""The results page's Δ figure: one panel per claim, a paired difference with its interval per selector.

A dot is the mean over seeds, the whisker its 95 % Student-t interval; a filled dot is significant after Holm's
correction over the panel's family, a hollow one is not. The dashed line is no difference.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np

from plots.results_verdicts import DeltaPanel
from plots.style import colour


def delta_figure(panels: Sequence[DeltaPanel]) -> Any:
    """One column of panels side by side, selectors on the y axis of each (best at the top)."""
    from plots.render import pyplot

    height = 0.28 * max(len(panel.rows) for panel in panels) + 1.4
    figure, axes = pyplot().subplots(1, len(panels), figsize=(4.2 * len(panels), height), squeeze=False,
                                     layout="constrained")
    for axis, panel in zip(axes[0], panels, strict=True):
        rows = panel.rows[::-1]  # matplotlib counts y upwards: the first row goes on top
        for y, (selector, comparison) in enumerate(rows):
            interval, shade = comparison.interval, colour(selector)
            if np.isfinite(interval.low):
                axis.plot([interval.low, interval.high], [y, y], color=shade, lw=1.6)
            axis.plot([interval.mean], [y], "o", ms=6, color=shade,
                      markerfacecolor=shade if comparison.significant else "white")
        axis.axvline(0.0, color="#444444", lw=0.8, ls="--")
        axis.set_yticks(range(len(rows)), [selector for selector, _ in rows], fontsize=8)
        axis.set_title(panel.title, fontsize=10)
        axis.set_xlabel(panel.label, fontsize=8)
        axis.grid(alpha=0.3, axis="x")
    figure.suptitle("paired Δ over seeds, 95 % t interval; filled = significant after Holm", fontsize=9)
    return figure
