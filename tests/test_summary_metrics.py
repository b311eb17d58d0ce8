"""Summary metrics: final values, normalised areas and labels-to-target, checked against hand-computed numbers."""

import math

import pytest

from benchmark.summary_metrics import DEFAULT_TARGET_SPEARMAN, summary_keys, summary_metrics

N_LABELS = [20, 40, 60, 100]
SPEARMAN = [0.5, 0.65, 0.72, 0.8]
BON = [1.0, 2.0, 2.5, 3.0]
RECORDS = [
    {"round": i, "n_labels": n, "spearman": s, "one_minus_spearman": 1 - s, "bon/50": b, "bon/5": 0.0}
    for i, (n, s, b) in enumerate(zip(N_LABELS, SPEARMAN, BON, strict=True))
]


def test_final_area_and_labels_to_target_match_hand_computation():
    out = summary_metrics(RECORDS, "bon/50", None)
    assert list(out) == summary_keys("bon/50")
    # Trapezoids by hand, divided by the label range 100 - 20 = 80.
    auc_error = (20 * (0.5 + 0.35) / 2 + 20 * (0.35 + 0.28) / 2 + 40 * (0.28 + 0.2) / 2) / 80
    auc_bon = (20 * (1.0 + 2.0) / 2 + 20 * (2.0 + 2.5) / 2 + 40 * (2.5 + 3.0) / 2) / 80
    assert out["final/one_minus_spearman"] == pytest.approx(0.2)
    assert out["final/bon/50"] == 3.0
    assert out["auc/one_minus_spearman"] == pytest.approx(auc_error)
    assert out["auc/bon/50"] == pytest.approx(auc_bon)
    assert DEFAULT_TARGET_SPEARMAN == 0.7 and out["target/spearman"] == 0.7
    assert out["labels_to_target/spearman"] == 60.0  # 0.72 is the first Spearman >= 0.7


@pytest.mark.parametrize(("target", "labels"), [(0.5, 20.0), (0.8, 100.0), (0.81, None)])
def test_labels_to_target_is_the_first_round_reaching_it_or_none(target, labels):
    out = summary_metrics(RECORDS, "bon/50", target)
    assert out["labels_to_target/spearman"] == labels and out["target/spearman"] == target


def test_undefined_values_are_none_not_nan():
    broken = [{**r, "bon/50": math.nan} if r["round"] == 3 else r for r in RECORDS]
    out = summary_metrics(broken, "bon/50", None)
    assert out["final/bon/50"] is None and out["auc/bon/50"] is None
    assert out["final/one_minus_spearman"] == pytest.approx(0.2)
    empty = summary_metrics([], "bon/50", 0.6)
    assert empty == {**dict.fromkeys(summary_keys("bon/50")), "target/spearman": 0.6}
