"""The summary table, per setting and selector, in Markdown (to read) and CSV (to load).

Per run: final 1 − Spearman and BoN, the area under each curve (normalised by the label range, as in
summary.json), the labels needed to reach a target Spearman and the mean selection seconds per round.
Across seeds: the mean with its t interval, the paired difference to random (same seeds) with its
interval, and the rank of each selector within its setting by mean AUC of 1 − Spearman (1 = best).
"""

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark.outputs import area_under_curve
from plots.curves import SPEARMAN, baseline_line
from plots.intervals import LEVEL, Interval, t_interval
from plots.loading import Run, Setting

FINAL_SPEARMAN = "final_one_minus_spearman"
FINAL_BON = "final_bon"
AUC_SPEARMAN = "auc_one_minus_spearman"
AUC_BON = "auc_bon"
TO_TARGET = "labels_to_target"
SELECTION = "selection_seconds"
STATISTICS = (FINAL_SPEARMAN, FINAL_BON, AUC_SPEARMAN, AUC_BON, TO_TARGET, SELECTION)
PAIRED = (FINAL_SPEARMAN, FINAL_BON, AUC_SPEARMAN, AUC_BON)
RANKED_BY = AUC_SPEARMAN


def run_statistics(run: Run, bon_key: str, target: float) -> dict[str, float]:
    """The per-run numbers the table aggregates over seeds; NaN where undefined."""
    n_labels = [r["n_labels"] for r in run.metrics]
    spearman_error = [r[SPEARMAN] for r in run.metrics]
    bon = [r[bon_key] for r in run.metrics]
    reached = [r["n_labels"] for r in run.metrics if r["spearman"] >= target]
    selection = [t["selection_seconds"] for t in run.timings if t["round"] > 0]
    return {
        FINAL_SPEARMAN: spearman_error[-1],
        FINAL_BON: bon[-1],
        AUC_SPEARMAN: area_under_curve(n_labels, spearman_error),
        AUC_BON: area_under_curve(n_labels, bon),
        TO_TARGET: float(reached[0]) if reached else math.nan,
        SELECTION: float(np.mean(selection)) if selection else math.nan,
    }


def target_spearman(setting: Setting, requested: float | None) -> tuple[float, str]:
    """The requested target, or random's mean final Spearman in this setting (labels a selector needs to match
    what random reaches with the whole budget)."""
    if requested is not None:
        return requested, "given"
    baseline = baseline_line(setting)
    if baseline is None:
        return math.nan, "no random runs"
    runs = setting.lines[baseline].values()
    return float(np.mean([run.metrics[-1]["spearman"] for run in runs])), "random's final mean"


@dataclass
class Row:
    setting: str
    line: str
    seeds: int
    target: float
    target_source: str
    stats: dict[str, Interval]
    reached: int
    deltas: dict[str, Interval | None]
    rank: int = 0


def setting_rows(setting: Setting, bon_key: str, target: float | None, level: float) -> list[Row]:
    goal, source = target_spearman(setting, target)
    per_line = {
        name: {seed: run_statistics(run, bon_key, goal) for seed, run in runs.items()}
        for name, runs in setting.lines.items()
    }
    baseline = baseline_line(setting)
    rows = []
    for name in setting.ordered_lines():
        by_seed = per_line[name]
        seeds = sorted(by_seed)
        stats = {key: t_interval([by_seed[s][key] for s in seeds], level) for key in STATISTICS}
        reached = sum(not math.isnan(by_seed[s][TO_TARGET]) for s in seeds)
        deltas: dict[str, Interval | None] = dict.fromkeys(PAIRED)
        shared = [s for s in seeds if baseline is not None and name != baseline and s in per_line[baseline]]
        if shared:
            assert baseline is not None
            deltas = {
                key: t_interval([by_seed[s][key] - per_line[baseline][s][key] for s in shared], level)
                for key in PAIRED
            }
        rows.append(Row(setting.label, name, len(seeds), goal, source, stats, reached, deltas))
    order = sorted(rows, key=lambda row: float(row.stats[RANKED_BY].mean))
    for rank, row in enumerate(order, start=1):
        row.rank = rank
    return rows


def summary_rows(
    settings: Sequence[Setting], bon_key: str, target: float | None = None, level: float = LEVEL
) -> list[Row]:
    return [row for setting in settings for row in setting_rows(setting, bon_key, target, level)]


def to_csv(rows: Sequence[Row]) -> str:
    """One line per setting and selector; every statistic as mean, low, high."""
    header = ["setting", "selector", "seeds", "rank", "target_spearman", "target_source"]
    header += [f"{key}_{part}" for key in STATISTICS for part in ("mean", "low", "high")]
    header += [f"{TO_TARGET}_reached"]
    header += [f"delta_{key}_{part}" for key in PAIRED for part in ("mean", "low", "high")]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        values: list[Any] = [row.setting, row.line, row.seeds, row.rank, row.target, row.target_source]
        for key in STATISTICS:
            values += interval_parts(row.stats[key])
        values.append(row.reached)
        for key in PAIRED:
            values += interval_parts(row.deltas[key])
        writer.writerow(values)
    return buffer.getvalue()


def interval_parts(interval: Interval | None) -> list[float]:
    if interval is None:
        return [math.nan] * 3
    return [float(interval.mean), float(interval.low), float(interval.high)]


FORMATS = {TO_TARGET: ".0f", SELECTION: ".3g"}


def cell(interval: Interval | None, key: str, paired: bool = False) -> str:
    """'0.183 ± 0.012'; a paired difference whose interval excludes 0 is starred."""
    if interval is None or math.isnan(float(interval.mean)):
        return "—"
    spec = FORMATS.get(key, ".3f")
    text = f"{float(interval.mean):{spec}}"
    if interval.n > 1:
        text += f" ± {float(interval.half_width):{spec}}"
    if paired and interval.n > 1 and (float(interval.low) > 0 or float(interval.high) < 0):
        text += " *"
    return text


def to_markdown(rows: Sequence[Row], bon_key: str, level: float = LEVEL) -> str:
    n = bon_key.split("/")[1]
    columns = ["rank", "selector", "seeds", "final 1−ρ", f"final BoN-{n}", "AUC 1−ρ", f"AUC BoN-{n}",
               "labels to ρ ≥ target", "select s/round", "Δ final 1−ρ", f"Δ final BoN-{n}", "Δ AUC 1−ρ",
               f"Δ AUC BoN-{n}"]
    lines = [
        "# Summary",
        "",
        f"Mean ± half-width of the {100 * level:g}% Student-t interval over seeds. Δ = selector − random on the "
        "same seeds (paired); * = the interval excludes 0. AUC = area under the curve divided by the label range. "
        "Rank by mean AUC of 1 − Spearman (1 = best). Lower is better for 1−ρ, higher for BoN.",
    ]
    for setting in dict.fromkeys(row.setting for row in rows):
        group = sorted((row for row in rows if row.setting == setting), key=lambda row: row.rank)
        first = group[0]
        lines += ["", f"## {setting}", "",
                  f"Target Spearman {first.target:.3f} ({first.target_source}).", "",
                  "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        for row in group:
            to_target = cell(row.stats[TO_TARGET], TO_TARGET) if row.reached == row.seeds else "—"
            cells = [str(row.rank), row.line, str(row.seeds)]
            cells += [cell(row.stats[key], key) for key in (FINAL_SPEARMAN, FINAL_BON, AUC_SPEARMAN, AUC_BON)]
            cells += [f"{to_target} ({row.reached}/{row.seeds} reached)", cell(row.stats[SELECTION], SELECTION)]
            cells += [cell(row.deltas[key], key, paired=True) for key in PAIRED]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
