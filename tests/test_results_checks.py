"""The open checks' claims (plots.results_checks): (d) out-of-distribution test prompts and (e) the head, on small
hand-made tables of per-run AUCs, against an independent computation of each paired difference and of Holm's
correction, and each verdict of the stated rule."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from plots.intervals import holm_significant
from plots.results_checks import HEAD, SPLIT, claim_head, claim_ood, condition_verdict
from plots.results_verdicts import Comparison, Sweep
from plots.tables import AUC_SPEARMAN

SEEDS = 5
MLP, LINEAR = "benchmark.reward_model.RewardMLP", "benchmark.reward_model.LinearHead"
NOISE = np.array([0.004, -0.003, 0.001, -0.002, 0.0])


def sweep(gains: dict[tuple[str, str], float], key: str, noise: float = 1.0) -> Sweep:
    """Runs of random, dopt and pastaware_dopt per condition: AUC = 0.5 − gain + seed noise (random's gain 0)."""
    rows = []
    for (condition, selector), gain in gains.items():
        for seed in range(SEEDS):
            shake = noise * NOISE[(seed + len(selector)) % SEEDS] * (3 if selector != "random" else 1)
            rows.append({"seed": seed, "selector": selector, key: condition, AUC_SPEARMAN: 0.5 - gain + shake,
                         "eval.shift": 3.0, "eval.clusters": 3, "eval.held_out": 1})
    table = pd.DataFrame(rows)
    return Sweep("results_check", pd.DataFrame(), pd.DataFrame(), table, "bon/5", [], None)


def gains(conditions: dict[str, tuple[float, float]]) -> dict[tuple[str, str], float]:
    """(condition, selector) -> gain, from each condition's (dopt, pastaware_dopt) gains."""
    return {(c, s): g for c, (dopt, past) in conditions.items()
            for s, g in (("random", 0.0), ("dopt", dopt), ("pastaware_dopt", past))}


def paired(check: Sweep, key: str, condition: str) -> dict[str, tuple[float, float]]:
    """Independently: each method − random by seed, its mean and t-test p value."""
    rows = check.stats[check.stats[key] == condition]
    wide = rows.pivot(index="seed", columns="selector", values=AUC_SPEARMAN)
    return {m: (float((wide[m] - wide["random"]).mean()), float(stats.ttest_1samp(wide[m] - wide["random"], 0).pvalue))
            for m in ("dopt", "pastaware_dopt")}


def test_ood_claim_reads_the_shifted_split_with_holm_over_the_two_methods():
    check = sweep(gains({"iid": (0.0, 0.0), "prompt_shift": (0.1, 0.08)}), SPLIT)
    claim = claim_ood(check)
    expected = paired(check, SPLIT, "prompt_shift")
    significant = holm_significant({m: p for m, (_, p) in expected.items()})
    assert all(significant.values())
    for method, gain in (("dopt", 0.1), ("pastaware_dopt", 0.08)):
        assert expected[method][0] == pytest.approx(-gain) and f"`{method}` {-gain:.3f} [" in claim.text
    assert "Verdict: **supported**" in claim.text and claim.verdict == "supported"
    assert "on the prompt_shift (test prompts at least 3 std out along a direction) split" in claim.text
    assert [panel.title for panel in claim.panels] == ["(d) iid", "(d) prompt_shift"]


@pytest.mark.parametrize(("conditions", "verdict"), [
    ({"iid": (0.1, 0.1), "held_out_clusters": (0.0, 0.0)}, "not supported"),  # iid gains do not count
    ({"iid": (0.0, 0.0), "held_out_clusters": (0.1, -0.05)}, "contradicted"),  # one method significantly worse
    ({"iid": (0.0, 0.0), "held_out_clusters": (0.1, 0.0)}, "not supported"),  # one of the two is not enough
])
def test_ood_verdicts_follow_the_rule(conditions, verdict):
    claim = claim_ood(sweep(gains(conditions), SPLIT))
    assert claim.verdict == verdict and f"Verdict: **{verdict}**" in claim.text
    assert "held_out_clusters (1 of 3 k-means prompt clusters held out, per seed)" in claim.text


def test_ood_without_shifted_runs_is_not_tested():
    assert claim_ood(sweep(gains({"iid": (0.1, 0.1)}), SPLIT)).verdict == "not tested"


def test_noise_larger_than_the_gain_is_not_significant():
    check = sweep(gains({"iid": (0.0, 0.0), "prompt_shift": (0.004, 0.004)}), SPLIT, noise=3.0)
    expected = paired(check, SPLIT, "prompt_shift")
    assert not any(holm_significant({m: p for m, (_, p) in expected.items()}).values())
    assert claim_ood(check).verdict == "not supported"


def test_head_claim_is_supported_only_with_every_head():
    both = claim_head(sweep(gains({MLP: (0.1, 0.1), LINEAR: (0.1, 0.09)}), HEAD))
    assert both.verdict == "supported" and "with the mlp head (supported)" in both.text
    assert "with the linear head (supported)" in both.text
    one = claim_head(sweep(gains({MLP: (0.0, 0.0), LINEAR: (0.1, 0.09)}), HEAD))
    assert one.verdict == "not supported" and "with the mlp head (not supported)" in one.text
    against = claim_head(sweep(gains({MLP: (-0.1, 0.0), LINEAR: (0.1, 0.09)}), HEAD))
    assert against.verdict == "contradicted" and [p.title for p in against.panels] == ["(e) head mlp",
                                                                                     "(e) head linear"]
    assert "Random's own AUC of 1 − ρ is 0.500 with the mlp head, 0.500 with the linear head" in against.text


def test_one_head_is_not_tested():
    assert claim_head(sweep(gains({MLP: (0.1, 0.1)}), HEAD)).verdict == "not tested"


def test_a_condition_needs_both_methods():
    from plots.intervals import t_interval

    better = Comparison(t_interval([-0.1, -0.11, -0.09]), 0.001, True)
    assert condition_verdict({"dopt": better}) == "not supported"
    assert condition_verdict({"dopt": better, "pastaware_dopt": better}) == "supported"
    assert condition_verdict({}) == "not tested"
