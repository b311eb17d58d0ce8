"""The summary table, per setting and selector, in Markdown (to read) and CSV (to load), from the tidy frame.

Per run: the final value of every summarised metric of the registry (benchmark.metrics: 1 − Spearman and BoN),
the area under each curve (normalised by the label range, as in
summary.json), the labels needed to reach a target Spearman and the mean selection seconds per round.
Across seeds: the mean with its t interval, the paired difference to random (same seeds) with its
interval, and the rank of each selector within its setting by mean AUC of 1 − Spearman (1 = best).
Selection times are skewed and positive, so they are shown as median and range (min–max), never as a mean ± a
half-width that can go below 0.
"""

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from benchmark.metrics import PRIMARY, SPEARMAN, Metric, summarised
from benchmark.summary_metrics import summary_metrics
from plots.curves import BASELINE, baseline_line
from plots.intervals import LEVEL, t_multiplier
from plots.loading import CHANGED_MARK, final_rows

KINDS = ("final", "auc")  # a summarised metric's columns: its final value and its normalised area
FINAL_SPEARMAN = f"final_{PRIMARY}"
AUC_SPEARMAN = f"auc_{PRIMARY}"
TO_TARGET = "labels_to_target"
SELECTION = "selection_seconds"
RANKED_BY = AUC_SPEARMAN
CELL = ["setting", "line"]


def stat_column(kind: str, metric: Metric) -> str:
    """A statistic's column stem: ``final_one_minus_spearman``, ``auc_bon`` (the best-of-N column names no N)."""
    return f"{kind}_{metric.name}"


def paired_columns(bon_key: str) -> list[str]:
    """The statistics compared with random on the same seeds: final and area of every summarised metric."""
    return [stat_column(kind, m) for kind in KINDS for m in summarised(bon_key)]


def statistics(bon_key: str) -> list[str]:
    """The statistics shown as a mean with its t interval: the paired ones and the labels to target."""
    return [*paired_columns(bon_key), TO_TARGET]


def run_statistics(frame: pd.DataFrame, bon_key: str, targets: pd.Series) -> pd.DataFrame:
    """The per-run numbers the table aggregates over seeds, indexed by run; NaN where undefined.

    ``targets`` is the Spearman to reach, by setting. The final values, areas and labels to target are
    benchmark.summary_metrics' (the numbers summary.json and W&B hold), here with the setting's target.
    """
    last = final_rows(frame)
    stats = last[["setting", "line", "selector", "seed", "inputs_changed"]].copy()
    headline = summarised(bon_key)
    names = {stat_column(kind, m): f"{kind}/{m.key}" for kind in KINDS for m in headline}
    names[TO_TARGET] = "labels_to_target/spearman"
    columns = ["n_labels", SPEARMAN, *(m.key for m in headline if m.key != SPEARMAN)]
    per_run = {
        run: summary_metrics(rows.reindex(columns=columns).to_dict("records"), bon_key,
                             float(targets[str(stats.at[run, "setting"])]))
        for run, rows in frame.sort_values(["run", "n_labels"]).groupby("run")
    }
    for column, key in names.items():
        stats[column] = [math.nan if per_run[run][key] is None else per_run[run][key] for run in stats.index]
    later = frame[frame["round"] > 0]
    stats[SELECTION] = later.groupby("run")[SELECTION].mean() if SELECTION in later else math.nan
    return stats


def target_spearman(frame: pd.DataFrame, requested: float | None) -> tuple[pd.Series, pd.Series]:
    """Per setting: the Spearman to reach and where it comes from: the requested target, or random's mean final
    Spearman (labels a selector needs to match what random reaches with the whole budget)."""
    names = [str(s) for s in frame["setting"].unique()]
    if requested is not None:
        return pd.Series(requested, index=names, dtype=float), pd.Series("given", index=names)
    last = final_rows(frame)
    targets, sources = {}, {}
    for setting in names:
        rows = frame[frame["setting"] == setting]
        baseline = baseline_line(rows)
        finals = last.loc[(last["setting"] == setting) & (last["line"] == baseline), SPEARMAN]
        targets[setting] = float(finals.mean()) if baseline else math.nan
        sources[setting] = "random's final mean" if baseline else "no random runs"
    return pd.Series(targets, dtype=float), pd.Series(sources)


def intervals(values: pd.DataFrame, columns: Sequence[str], level: float) -> pd.DataFrame:
    """Per (setting, line): ``<column>_mean``/``_low``/``_high``, the t interval over its runs (NaN bounds for one
    run; NaN everywhere when a run's value is NaN, so a missing value is never averaged away)."""
    groups = values.groupby(CELL, observed=True, sort=False)[list(columns)]
    n = groups.size()
    complete = groups.count().eq(n, axis=0)
    mean = groups.mean().where(complete)
    half = groups.std().where(complete).mul(t_multiplier(n.to_numpy(), level) / np.sqrt(n.to_numpy()), axis=0)
    parts = {"mean": mean, "low": mean - half, "high": mean + half}
    table = pd.concat({part: table for part, table in parts.items()}, axis=1)
    table.columns = [f"{column}_{part}" for part, column in table.columns]
    return table[[f"{column}_{part}" for column in columns for part in parts]]


def paired_deltas(stats: pd.DataFrame, baselines: pd.Series, bon_key: str, level: float) -> pd.DataFrame:
    """``delta_<statistic>_{mean,low,high}``: selector − the setting's random line on the same seeds."""
    keys = paired_columns(bon_key)
    is_baseline = stats["line"].to_numpy() == baselines.reindex(stats["setting"].astype(str)).to_numpy()
    base = stats.loc[is_baseline, ["setting", "seed", *keys]]
    paired = stats[~is_baseline].merge(base, on=["setting", "seed"], suffixes=("", "_random"))
    for key in keys:
        paired[key] = paired[key] - paired[f"{key}_random"]
    table = intervals(paired, keys, level)
    table.columns = [f"delta_{column}" for column in table.columns]
    return table


def summary_table(frame: pd.DataFrame, bon_key: str, target: float | None = None,
                  level: float = LEVEL) -> pd.DataFrame:
    """One row per setting and line, in setting order then rank; see the module docstring for the columns."""
    targets, sources = target_spearman(frame, target)
    stats = run_statistics(frame, bon_key, targets)
    baselines = pd.Series({str(s): baseline_line(rows) for s, rows in frame.groupby("setting", observed=True)})
    groups = stats.groupby(CELL, observed=True, sort=False)
    table = pd.DataFrame({"seeds": groups.size(), "changed_inputs": groups["inputs_changed"].any()})
    table = table.join(intervals(stats, statistics(bon_key), level))
    table[f"{TO_TARGET}_reached"] = groups[TO_TARGET].count()
    table = table.join(pd.concat({part: getattr(groups[SELECTION], part)() for part in ("median", "min", "max")},
                                 axis=1).add_prefix(f"{SELECTION}_"))
    table = table.join(paired_deltas(stats, baselines, bon_key, level)).reset_index()
    table["rank"] = table.groupby("setting", observed=True)[f"{RANKED_BY}_mean"].rank(method="first",
                                                                                        na_option="bottom")
    table["target_spearman"] = targets.reindex(table["setting"].astype(str)).to_numpy()
    table["target_source"] = sources.reindex(table["setting"].astype(str)).to_numpy()
    table = table.astype({"rank": int}).sort_values(["setting", "rank"]).rename(columns={"line": "selector"})
    leading = ["setting", "selector", "seeds", "rank", "target_spearman", "target_source", "changed_inputs"]
    return table[leading + [c for c in table.columns if c not in leading]].reset_index(drop=True)


FORMATS = {TO_TARGET: ".0f", SELECTION: ".3g"}


def cell(table: pd.Series, key: str, paired: bool = False) -> str:
    """'0.183 ± 0.012' from ``<key>_mean``/``_high``; a paired difference whose interval excludes 0 is starred."""
    mean, low, high = (float(table[f"{key}_{part}"]) for part in ("mean", "low", "high"))
    if math.isnan(mean):
        return "—"
    spec = FORMATS.get(key.removeprefix("delta_"), ".3f")
    text = f"{mean:{spec}}"
    if not math.isnan(high):
        text += f" ± {high - mean:{spec}}"
        if paired and (low > 0 or high < 0):
            text += " *"
    return text


def time_cell(row: pd.Series) -> str:
    """'0.012 (0.010–0.015)': median and range over seeds."""
    median, low, high = (float(row[f"{SELECTION}_{part}"]) for part in ("median", "min", "max"))
    if math.isnan(median):
        return "—"
    return f"{median:.3g}" + (f" ({low:.3g}–{high:.3g})" if high > low else "")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub Markdown table (``|`` in cells escaped); pandas' to_markdown would need tabulate."""
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(header), "|" + "---|" * len(header), *map(line, rows)])


def directions(headline: Sequence[Metric]) -> str:
    """'Lower is better for 1−ρ, higher for BoN-50.' from the registry's directions."""
    lower = [m.short or m.label for m in headline if m.lower_is_better]
    higher = [m.short or m.label for m in headline if m.lower_is_better is False]
    parts = [f"lower is better for {', '.join(lower)}" * bool(lower), f"higher for {', '.join(higher)}" * bool(higher)]
    text = ", ".join(part for part in parts if part)
    return f"{text[:1].upper()}{text[1:]}." if text else ""


def to_markdown(table: pd.DataFrame, bon_key: str, level: float = LEVEL) -> str:
    headline = summarised(bon_key)
    paired = paired_columns(bon_key)
    heading = {stat_column(kind, m): f"{'AUC' if kind == 'auc' else kind} {m.short or m.label}" for kind in KINDS
               for m in headline}
    header = ["rank", "selector", "seeds", *(heading[key] for key in paired), "labels to ρ ≥ target",
              "select s/round: median (range)", *(f"Δ {heading[key]}" for key in paired)]
    lines = [
        "# Summary",
        "",
        f"Mean ± half-width of the {100 * level:g}% Student-t interval over seeds. Δ = selector − {BASELINE} on the "
        "same seeds (paired); * = the interval excludes 0. AUC = area under the curve divided by the label range. "
        f"Rank by mean AUC of 1 − Spearman (1 = best). {directions(headline)} Selection seconds "
        "per round: median and range (min–max) over seeds.",
    ]
    if table["changed_inputs"].any():
        lines += ["", f"{CHANGED_MARK} = some of its runs were resumed onto changed inputs (allow_changed_inputs), or "
                      "their code or data changed since they finished: their rounds did not all see today's inputs."]
    for setting, group in table.groupby("setting", observed=True, sort=True):
        first = group.iloc[0]
        rows = []
        for _, row in group.iterrows():
            to_target = cell(row, TO_TARGET) if row[f"{TO_TARGET}_reached"] == row["seeds"] else "—"
            name = row["selector"] + (f" {CHANGED_MARK}" if row["changed_inputs"] else "")
            cells = [str(row["rank"]), name, str(row["seeds"])]
            cells += [cell(row, key) for key in paired]
            cells += [f"{to_target} ({row[f'{TO_TARGET}_reached']}/{row['seeds']} reached)", time_cell(row)]
            cells += [cell(row, f"delta_{key}", paired=True) for key in paired]
            rows.append(cells)
        lines += ["", f"## {setting}", "", f"Target Spearman {first['target_spearman']:.3f} "
                  f"({first['target_source']}).", "", markdown_table(header, rows)]
    return "\n".join(lines) + "\n"


def to_csv(table: pd.DataFrame) -> str:
    return table.to_csv(index=False)
