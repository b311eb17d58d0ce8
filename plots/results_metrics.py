"""The results page's table of the reward-model metrics beyond Spearman (best-of-4 accuracy, pair NLL, pair ECE).

Each is the final round's value of a run (benchmark/metrics.py defines them), averaged over seeds with its
Student-t interval, per selector and setting of a dataset's claims sweep, with how closely the selectors' order by it
follows their order by final Spearman (the rank correlation across selectors of the means). A selector some of whose
runs ran before the metrics existed is named and left out, never averaged over part of its seeds.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from benchmark.metrics import Metric, metric
from plots.intervals import t_interval
from plots.loading import final_rows, settings
from plots.results_verdicts import Sweep, count, listed
from plots.tables import markdown_table

#: The metrics the page summarises, by registry key.
KEYS = ("bo4_accuracy", "pair_nll", "pair_ece")
#: Fewest selectors whose rank correlation is worth stating (with 3 it can only be ±1 or ±0.5).
MIN_SELECTORS = 5


def cell(values: np.ndarray) -> str:
    """'0.512 ± 0.020': mean ± half-width of the t interval (the mean alone for one seed)."""
    interval = t_interval(values)
    return f"{interval.mean:.3f}" if np.isnan(interval.low) else f"{interval.mean:.3f} ± {interval.half_width:.3f}"


def registered(key: str) -> Metric:
    entry = metric(key)
    assert entry is not None, f"{key} is not in benchmark.metrics.METRICS"
    return entry


def heading(key: str) -> str:
    return f"{registered(key).label} ({'lower' if registered(key).lower_is_better else 'higher'} is better)"


def agreement(finals: pd.DataFrame, keys: Sequence[str]) -> str:
    """How the selectors' mean of each metric orders them against their mean final Spearman (Spearman's r)."""
    means = finals.groupby("selector")[["spearman", *keys]].mean()
    if len(means) < MIN_SELECTORS:
        return ""
    parts = []
    for key in keys:
        sign = -1.0 if registered(key).lower_is_better else 1.0
        r = stats.spearmanr(means["spearman"], sign * means[key]).statistic
        parts.append(f"{key} {r:.2f}")
    return (f" Rank correlation across the {len(means)} selectors between the mean final Spearman and each metric "
            f"(signed so that 1 = the same order of better to worse): {', '.join(parts)}.")


def metrics_text(sweep: Sweep) -> str:
    """One table per setting of the sweep: each selector's final value of every metric of :data:`KEYS`, over the
    selectors whose runs all recorded them (the others are named)."""
    finals = final_rows(sweep.frame)
    keys = [key for key in KEYS if key in finals]
    recorded = finals[keys].notna().all(axis=1) if keys else pd.Series(False, index=finals.index)
    complete = recorded.groupby([finals["setting"], finals["selector"]], observed=True).transform("all")
    missing = sorted(set(finals.loc[~complete, "selector"]))
    if not keys or not complete.any():
        return f"The runs of {sweep.name} did not record {', '.join(KEYS)}: they ran before these metrics existed."
    older = (f" Not shown in a setting where some of its runs ran before these metrics existed: {listed(missing)} "
             f"({count(int((~recorded).sum()), 'run')} without them; `overwrite=true` redoes them)." if missing else "")
    blocks = [f"Final values in {sweep.name} (mean ± half-width of the 95 % t interval over seeds; best-of-4 accuracy: "
              "the share of test prompts whose golden best of 4 drawn responses is also predicted best; pair NLL and "
              "pair ECE: the model's pair probabilities against the annotator's true Bradley-Terry probabilities on "
              "random test pairs, [outputs.md](outputs.md)). Selectors in the order of the summary table." + older]
    for setting in settings(sweep.frame):
        rows = finals[(finals["setting"] == setting) & complete]
        order = sweep.table[sweep.table["setting"] == setting]["selector"]
        lines = [[f"`{selector}`", *(cell(rows.loc[rows["selector"] == selector, key].to_numpy()) for key in keys)]
                 for selector in order if (rows["selector"] == selector).any()]
        blocks.append(f"**{setting}**.{agreement(rows, keys)}\n\n"
                      + markdown_table(["selector", *map(heading, keys)], lines))
    return "\n\n".join(blocks)
