"""Per-seed learning curves of one metric, aligned on n_labels, and their paired differences.

A line's seeds share the label schedule, so curves are stacked into a (seeds × points) matrix; the points
kept are the n_labels every seed reached. Paired differences subtract the baseline run *of the same seed*,
which removes the variance the two runs share (prompts, initial batch, label noise).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import reduce

import numpy as np

from benchmark.errors import UserError
from plots.loading import Run, Setting

SPEARMAN = "one_minus_spearman"
BASELINE = "random"


@dataclass(frozen=True)
class Curves:
    n_labels: np.ndarray  # (points,)
    values: np.ndarray  # (seeds, points)
    seeds: tuple[int, ...]


def baseline_line(setting: Setting) -> str | None:
    """The first line of ``setting`` that runs the ``BASELINE`` selector, or None."""
    return next((name for name in setting.lines if setting.selector_of(name) == BASELINE), None)


def bon_metric(n: int) -> str:
    return f"bon/{n}"


def common_bon_sizes(runs: Iterable[Run]) -> list[int]:
    """The best-of-N sizes N that every run recorded, ascending."""
    sizes = [{int(k.split("/")[1]) for k in run.metrics[-1] if k.startswith("bon/")} for run in runs]
    return sorted(reduce(set.intersection, sizes)) if sizes else []


def choose_bon(runs: list[Run], requested: int | None) -> str:
    """``bon/<requested>``, or the largest N all runs share; a clear error names the Ns available."""
    sizes = common_bon_sizes(runs)
    if not sizes:
        raise UserError("the runs share no best-of-N size; plot fewer folders at once")
    if requested is None:
        return bon_metric(sizes[-1])
    if requested not in sizes:
        raise UserError(f"--bon-n {requested}: every run must have bon/{requested}; available: {sizes}")
    return bon_metric(requested)


def metric_curves(runs: Mapping[int, Run], metric: str) -> Curves:
    """The ``metric`` curve of each seed at the n_labels all seeds share."""
    seeds = tuple(sorted(runs))
    common = sorted(reduce(set.intersection, ({r["n_labels"] for r in runs[s].metrics} for s in seeds)))
    rows = []
    for seed in seeds:
        by_labels = {r["n_labels"]: r for r in runs[seed].metrics}
        if metric not in by_labels[common[0]]:
            raise UserError(f"{runs[seed].path}/metrics.jsonl has no {metric!r}")
        rows.append([by_labels[n][metric] for n in common])
    return Curves(np.asarray(common), np.asarray(rows, dtype=np.float64), seeds)


def paired_difference(line: Curves, baseline: Curves) -> Curves | None:
    """line − baseline per shared seed and n_labels; None when they share no seed or point."""
    seeds = tuple(s for s in line.seeds if s in baseline.seeds)
    points = np.intersect1d(line.n_labels, baseline.n_labels)
    if not seeds or not len(points):
        return None

    def pick(curves: Curves) -> np.ndarray:
        rows = [curves.seeds.index(s) for s in seeds]
        columns = np.searchsorted(curves.n_labels, points)
        return curves.values[np.ix_(rows, columns)]

    return Curves(points, pick(line) - pick(baseline), seeds)
