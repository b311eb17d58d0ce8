"""A run's headline numbers as flat keys, so summary.json and the W&B runs table hold (and sort by) the same values.

For each summarised metric of the registry (benchmark.metrics: 1 − Spearman and best-of-N golden reward): its value
after the last round (``final/...``) and the area under its curve against ``n_labels`` divided by the label range
(``auc/...``, :func:`benchmark.outputs.area_under_curve`), which summarises the whole learning curve. Plus the
labels a run needed to reach a target Spearman (``labels_to_target/spearman``) and that target (``target/spearman``).
Values that are undefined (no rounds, a NaN metric, a target never reached) are None.

The target is one fixed number, the same for every run, so that the column compares selectors across a
project without the run needing to see any other run. The default, :data:`DEFAULT_TARGET_SPEARMAN` = 0.7, lies
inside the learning curve of the ``quick`` preset (random selection goes from Spearman 0.60 to 0.82, see
docs/assumptions.md), so most runs reach it and the better selectors reach it sooner. ``arm-bench-plot --target``
remains the tool for per-setting targets (by default random's mean final Spearman, which needs all the runs).
"""

import math
from typing import Any

from benchmark.metrics import SPEARMAN, summarised
from benchmark.outputs import area_under_curve

DEFAULT_TARGET_SPEARMAN = 0.7


def summary_keys(bon_key: str) -> list[str]:
    """The keys :func:`summary_metrics` returns, in table order (the dashboard's columns)."""
    headline = [f"{kind}/{m.key}" for m in summarised(bon_key) for kind in ("final", "auc")]
    return [*headline, "labels_to_target/spearman", "target/spearman"]


def _defined(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def summary_metrics(
    records: list[dict[str, Any]], bon_key: str, target_spearman: float | None = None
) -> dict[str, float | None]:
    """Final value and normalised area of every summarised metric (benchmark.metrics; best-of-N at ``bon_key``),
    and labels to reach the target Spearman.

    ``records`` are the per-round metric records in round order (metrics.jsonl); ``target_spearman`` None means
    :data:`DEFAULT_TARGET_SPEARMAN`.
    """
    target = DEFAULT_TARGET_SPEARMAN if target_spearman is None else float(target_spearman)
    keys = summary_keys(bon_key)
    if not records:
        return {**dict.fromkeys(keys), "target/spearman": target}
    n_labels = [r["n_labels"] for r in records]
    out: dict[str, float | None] = {}
    for metric in (m.key for m in summarised(bon_key)):
        values = [math.nan if r.get(metric) is None else float(r[metric]) for r in records]
        out[f"final/{metric}"] = _defined(values[-1])
        out[f"auc/{metric}"] = _defined(area_under_curve(n_labels, values))
    reached = [r["n_labels"] for r in records if r.get(SPEARMAN) is not None and r[SPEARMAN] >= target]
    out["labels_to_target/spearman"] = float(reached[0]) if reached else None
    out["target/spearman"] = target
    return {key: out[key] for key in keys}
