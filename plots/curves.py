"""Per-seed learning curves of one metric, aligned on n_labels, their paired differences, and which metrics a
figure shows and which way is better.

A line's seeds share the label schedule, so curves are stacked into a (seeds × points) matrix; the points
kept are the n_labels every seed reached. Paired differences subtract the baseline run *of the same seed*,
which removes the variance the two runs share (prompts, initial batch, label noise).
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmark.errors import UserError
from benchmark.metrics import BON, PRIMARY, Metric, best_of_n_key, bon_size, metric
from plots.loading import final_rows

SPEARMAN = PRIMARY
BASELINE = "random"
ALIASES = ("spearman", "bon")  # --metrics names: 1 − Spearman and the chosen best-of-N

ONE_MINUS_SPEARMAN = metric(PRIMARY)


@dataclass(frozen=True)
class Curves:
    n_labels: np.ndarray  # (points,)
    values: np.ndarray  # (seeds, points)
    seeds: tuple[int, ...]


def common_bon_sizes(frame: pd.DataFrame) -> list[int]:
    """The best-of-N sizes N that every run recorded (a value in some round), ascending."""
    columns = [c for c in frame.columns if c.startswith("bon/")]
    recorded = frame.groupby("run")[columns].count().gt(0).all()
    return sorted(int(c.split("/")[1]) for c in columns if recorded[c])


def choose_bon(frame: pd.DataFrame, requested: int | None) -> str:
    """``bon/<requested>``, or the largest N all runs share; a clear error names the Ns available."""
    sizes = common_bon_sizes(frame)
    if not sizes:
        raise UserError("the runs share no best-of-N size; plot fewer folders at once")
    if requested is None:
        return best_of_n_key(sizes[-1])
    if requested not in sizes:
        raise UserError(f"--bon-n {requested}: every run must have bon/{requested}; available: {sizes}")
    return best_of_n_key(requested)


def choose_metrics(names: Sequence[str], bon_key: str, frame: pd.DataFrame) -> list[Metric]:
    """The figure's metric rows: ``spearman`` (1 − Spearman), ``bon`` (``bon_key``) or any metrics.jsonl key.

    Labels and better directions come from the metric registry (benchmark.metrics); a key it does not know is
    drawn under its own name with no direction.
    """
    metrics = []
    for name in names:
        if name == "spearman":
            metrics.append(ONE_MINUS_SPEARMAN)
        elif name == "bon":
            metrics.append(metric(BON).at(bon_size(bon_key)))
        elif name in frame.columns and pd.api.types.is_numeric_dtype(frame[name]) and name not in ("round", "seed"):
            metrics.append(metric(name) or Metric(name, name))
        else:
            raise UserError(f"--metrics {name}: not a metric; use {', '.join(ALIASES)} or a metrics.jsonl key")
    return metrics


def metric_curves(rows: pd.DataFrame, metric: str) -> Curves:
    """The ``metric`` curve of each seed of one line (``rows``) at the n_labels all seeds share."""
    if metric not in rows.columns:
        raise UserError(f"{rows['run'].iloc[0]}/metrics.jsonl has no {metric!r}")
    present = rows.pivot(index="seed", columns="n_labels", values="run").notna().all()
    table = rows.pivot(index="seed", columns="n_labels", values=metric).loc[:, present]
    return Curves(table.columns.to_numpy(), table.to_numpy(np.float64), tuple(int(s) for s in table.index))


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


def baseline_line(rows: pd.DataFrame) -> str | None:
    """The line of one setting's ``rows`` that runs the ``BASELINE`` selector (plain ``random`` first), or None."""
    lines = sorted(rows.loc[rows["selector"] == BASELINE, "line"].unique(), key=lambda name: (name != BASELINE, name))
    return lines[0] if lines else None


def line_order(frame: pd.DataFrame, metric: Metric) -> list[str]:
    """Lines best first: by mean rank over settings of the mean final ``metric`` (name order without a direction)."""
    finals = final_rows(frame).groupby(["setting", "line"], observed=True)[metric.key].mean()
    if metric.lower_is_better is None:
        return sorted(finals.index.get_level_values("line").unique())
    ranks = finals.groupby(level="setting", observed=True).rank(ascending=metric.lower_is_better, na_option="bottom")
    mean_rank = ranks.groupby(level="line").mean()
    return sorted(mean_rank.index, key=lambda line: (mean_rank[line], line))
