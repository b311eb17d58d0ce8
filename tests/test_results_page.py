"""The results page (plots.results_page) from fake run folders (tests/test_results.write_run): each claim's numbers
against an independent computation from the folders' metrics.jsonl, its verdict, failed jobs, the wall time, the
small PNGs; and the sweep runner's timing file, with a stand-in for the CLI."""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from benchmark.errors import UserError
from plots import results_page, results_sweeps
from plots.intervals import holm_significant, paired_p_value
from plots.results_metrics import agreement
from plots.results_page import DATASETS, MAX_PNG_BYTES, TOY, Dataset, main
from plots.results_sweeps import TIMING_FILE, run_sweeps, sweep_folder
from tests.test_results import write_run

SYNTHETIC, BATCH, OOD, HEAD = DATASETS[0].sweeps

SEEDS = 5
#: Final Spearman gain over random per selector; cross-prompt costs every selector 0.05 (claim b fails).
GAIN = {"random": 0.0, "entropy": 0.02, "dopt": 0.10, "pastaware_dopt": 0.09}
CROSS_COST = 0.05
#: Batch noise with mean 0 per seed, so small − large batch is centred on 0 (claim c inconclusive).
BATCH_NOISE = [0.02, -0.02, 0.01, -0.01, 0.0]
#: Claim (d): the paper's methods gain on the iid split only, so the out-of-distribution verdict is not supported.
OOD_GAIN = {"iid": GAIN, "prompt_shift": {"random": 0.0, "dopt": 0.0, "pastaware_dopt": 0.0}}
#: Claim (e): both methods gain with the linear head; past-aware D-opt loses with the MLP head (contradicted).
HEADS = {"benchmark.reward_model.LinearHead": GAIN,
         "benchmark.reward_model.RewardMLP": {"random": 0.0, "dopt": 0.10, "pastaware_dopt": -0.05}}
#: The reward-model metrics of the claims sweep's fake runs, final round, by selector (plus a seed term).
EXTRA = {"bo4_accuracy": 0.4, "pair_nll": 0.7, "pair_ece": 0.1}
#: A run made before those metrics existed: its selector is left out of that setting's table.
OLDER_RUN = ("entropy", 0, "in_prompt")


def curve(gain: float, *stream: int) -> list[float]:
    noise = np.random.default_rng(stream).normal(0, 0.004, size=2)
    return [0.5, 0.6 + gain / 2 + noise[0], 0.7 + gain + noise[1]]


def with_fraction(folder: Path, fraction: float) -> None:
    """Add the batch_cross_prompt_fraction diagnostic (null in round 0) to a fake run's metrics.jsonl."""
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    rows = [{**row, "batch_cross_prompt_fraction": None if row["round"] == 0 else fraction} for row in rows]
    (folder / "metrics.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))


def with_extra_metrics(folder: Path, offset: float) -> None:
    """Add :data:`EXTRA` (+ ``offset``, + 0.01 per round) to a fake run's metrics.jsonl."""
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    rows = [{**row, **{k: v + offset + 0.01 * row["round"] for k, v in EXTRA.items()}} for row in rows]
    (folder / "metrics.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))


def fake_checks(root: Path) -> None:
    """The open checks' sweeps: random and the paper's methods per split (d) and per head (e)."""
    for index, (split, gains) in enumerate(OOD_GAIN.items()):
        for selector, gain in gains.items():
            for seed in range(SEEDS):
                write_run(sweep_folder(root, OOD), selector, seed, curve(gain, index, seed, len(selector)),
                          config={"eval.split": split}, name=f"eval.split={split},")
    for index, (head, gains) in enumerate(HEADS.items()):
        for selector, gain in gains.items():
            for seed in range(SEEDS):
                write_run(sweep_folder(root, HEAD), selector, seed, curve(gain, 7 + index, seed, len(selector)),
                          config={"reward_model._target_": head}, name=f"reward_model={head.rsplit('.', 1)[1]},")


def fake_root(root: Path) -> None:
    """The five sweep folders, with a failed job in the synthetic sweep's summary and a timing file."""
    fake_checks(root)
    synthetic, batch, toy = (sweep_folder(root, name) for name in (SYNTHETIC, BATCH, TOY))
    for index, (selector, gain) in enumerate(GAIN.items()):
        for seed in range(SEEDS):
            for setup, cost in (("in_prompt", 0.0), ("cross_prompt", CROSS_COST)):
                folder = write_run(synthetic, selector, seed, curve(gain - cost, index, seed, len(setup)),
                                   config={"setup.pairing": setup, "candidates_per_round": 200},
                                   labels={"setup": setup}, name=f"setup={setup},")
                with_fraction(folder, 0.0 if setup == "in_prompt" else 1.0)
                if (selector, seed, setup) != OLDER_RUN:
                    with_extra_metrics(folder, 0.01 * index + 0.002 * seed)
    for selector in ("random", "dopt"):
        for seed in range(SEEDS):
            for size, sign in ((10, 1), (20, -1)):
                write_run(batch, selector, seed, [0.5, 0.6, 0.7 + GAIN[selector] + sign * BATCH_NOISE[seed] / 2],
                          config={"batch.size": size}, name=f"batch=b{size},")
    for selector in ("random", "dopt"):
        folder = write_run(toy, selector, 0, [0.5, 0.7, 0.8 + GAIN[selector]])
        axis = np.linspace(-1.0, 1.0, 12)
        np.savez(folder / "toy_grid.npz", x=axis, y=axis, predicted=np.outer(axis, axis),
                 golden=np.add.outer(axis, axis), points=np.random.default_rng(0).uniform(-1, 1, size=(30, 2)))
        for round_index in (1, 2):
            (folder / "selections").mkdir(exist_ok=True)
            np.savez(folder / "selections" / f"round_{round_index:03d}.npz", pairs=np.array([[0, 1], [2, 3]]),
                     labels=np.array([1, 0]))
    (synthetic / "sweep_summary.json").write_text(json.dumps({"failed": [
        {"run": "seed=9,selector=bald", "status": "failed", "reason": "RuntimeError: boom"}]}))
    (root / TIMING_FILE).write_text(json.dumps({"cores": 16, "cpu": "Test CPU", "sweeps": {
        SYNTHETIC: {"seconds": 90.0, "runs_computed": 40, "overrides": []},
        BATCH: {"seconds": 30.0, "runs_computed": 20, "overrides": ["seed=range(5)"]}}}))


def auc(folder: Path) -> float:
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    x = np.array([r["n_labels"] for r in rows], dtype=float)
    y = np.array([r["one_minus_spearman"] for r in rows])
    return float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(x)) / (x[-1] - x[0]))


def final(folder: Path) -> float:
    return json.loads((folder / "metrics.jsonl").read_text().splitlines()[-1])["one_minus_spearman"]


def interval(values: list[float]) -> str:
    mean = np.mean(values)
    low, high = stats.t.interval(0.95, len(values) - 1, loc=mean, scale=stats.sem(values))
    return f"{mean:.3f} [{low:.3f}, {high:.3f}]"


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Path]:
    base = tmp_path_factory.mktemp("results")
    fake_root(base / "root")
    main(["--skip-sweeps", "--root", str(base / "root"), "--page", str(base / "docs" / "results.md"),
          "--figures", str(base / "docs" / "results"), "--design-gap-pools", "3", "--datasets", "synthetic"])
    return (base / "docs" / "results.md").read_text(), base / "root", base / "docs"


def paragraph(text: str, marker: str) -> str:
    return text.split(marker, 1)[1].split("\n**", 1)[0]


def test_claim_a_numbers_and_verdict_match_the_run_folders(page):
    text, root, _ = page
    folder = sweep_folder(root, SYNTHETIC)

    def aucs(selector: str) -> list[float]:
        return [auc(folder / f"setup=in_prompt,seed={seed},selector={selector}") for seed in range(SEEDS)]

    claim = paragraph(text, "**(a)")
    delta = interval(list(np.subtract(aucs("dopt"), aucs("random"))))
    assert f"in in_prompt, `dopt` ranks 1 of 4 selectors (AUC {interval(aucs('dopt'))}); its paired Δ AUC vs " \
           f"random is {delta}; after Holm over its 2 comparisons it is significantly better than 2 of the 2 " \
           "other selectors" in claim
    assert "Verdict: **supported**" in claim


def test_claim_b_is_paired_by_seed_and_does_not_agree(page):
    text, root, _ = page
    folder = sweep_folder(root, SYNTHETIC)
    cross, inside = ([auc(folder / f"setup={setup},seed={seed},selector=dopt") for seed in range(SEEDS)]
                     for setup in ("cross_prompt", "in_prompt"))
    claim = paragraph(text, "**(b)")
    assert f"For `dopt` the AUC is {np.mean(inside):.3f} in-prompt and {np.mean(cross):.3f} cross-prompt, Δ (cross " \
           f"− in) {interval(list(np.subtract(cross, inside)))}." in claim
    assert "significantly higher for 4" in claim and "pools of the same size (200 pairs per round)" in claim
    assert "after Holm over the 4 selectors" in claim and "Verdict: **contradicted**" in claim


def test_claim_b_at_equal_cost_reads_each_run_at_the_cost_every_run_reached(page):
    # In-prompt runs cost 10, 20, 30; cross-prompt runs at 2x cost 20, 40, 60: at cost 30 a cross-prompt run is
    # halfway between its rounds 0 and 1, an in-prompt run at its last round.
    text, root, _ = page
    folder = sweep_folder(root, SYNTHETIC)

    def one_minus(setup: str, selector: str, seed: int) -> list[float]:
        rows = (folder / f"setup={setup},seed={seed},selector={selector}" / "metrics.jsonl").read_text().splitlines()
        return [json.loads(line)["one_minus_spearman"] for line in rows]

    lower = sum(np.mean([(one_minus("cross_prompt", s, seed)[0] + one_minus("cross_prompt", s, seed)[1]) / 2
                         - one_minus("in_prompt", s, seed)[2] for seed in range(SEEDS)]) < 0 for s in GAIN)
    claim = paragraph(text, "**(b)")
    assert "**At equal cost**, pricing a cross-prompt pair at 2× an in-prompt one" in claim
    assert f"1 − ρ at a cost of 30 (the most every run reached) is lower with cross-prompt pairs for {lower} of 4" \
           in claim


def test_claim_c_uses_final_values_at_equal_labels_and_is_inconclusive(page):
    text, root, _ = page
    folder = sweep_folder(root, BATCH)
    small, large = ([final(folder / f"batch=b{size},seed={seed},selector=dopt") for seed in range(SEEDS)]
                    for size in (10, 20))
    claim = paragraph(text, "**(c)")
    assert f"`dopt` {interval(list(np.subtract(small, large)))}" in claim
    assert "all end at 30 labels" in claim and "Verdict: **not supported**" in claim
    assert f"| `dopt` | 10 | {interval(small)} |" in claim


def test_page_lists_failures_wall_time_toy_and_small_figures(page):
    text, _, docs = page
    assert "`results_synthetic/seed=9,selector=bald` (failed): RuntimeError: boom" in text
    assert "The sweeps took 2.0 min of wall time on 16 cores (Test CPU)" in text
    assert "**Reduced trial.**" in text and "`results_batch` with `seed=range(5)`" in text
    assert "the lowest final 1 − ρ is reached by `dopt` (0.100), `random` (0.200)." in text  # one seed: no interval
    assert "hand-written, not generated" in text
    for name, stem in ((SYNTHETIC, "curves"), (BATCH, "curves"), (TOY, "curves"), (TOY, "toy"), (SYNTHETIC, "deltas")):
        image = docs / "results" / name / f"{stem}.png"
        assert 5_000 < image.stat().st_size <= MAX_PNG_BYTES
        assert f"(results/{name}/{stem}.png)" in text
    assert not list((docs / "results").rglob("*.pdf"))


def test_sweep_time_is_kept_only_for_runs_that_computed(tmp_path, monkeypatch):
    """A stand-in CLI: the first call trains (writes metrics), the second only skips, the third fails to start."""
    calls = []

    def command(name: str, root: Path, overrides: list[str]) -> list[str]:
        calls.append(name)
        run = sweep_folder(root, name) / "seed=0"
        if len(calls) <= 3:
            script = f"import pathlib; p = pathlib.Path({str(run)!r}); p.mkdir(parents=True); " \
                     "(p / 'metrics.jsonl').write_text('{}')"
            return [sys.executable, "-c", script]
        return [sys.executable, "-c", "pass"]

    monkeypatch.setattr(results_sweeps, "sweep_command", command)
    names = [SYNTHETIC, BATCH, TOY]
    run_sweeps(tmp_path, ["seed=0"], names)
    first = json.loads((tmp_path / TIMING_FILE).read_text())
    assert set(first["sweeps"]) == {SYNTHETIC, BATCH, TOY} and first["cores"] >= 1
    assert first["sweeps"][TOY]["runs_computed"] == 1 and first["sweeps"][TOY]["overrides"] == ["seed=0"]
    run_sweeps(tmp_path, ["seed=0"], names)  # nothing trained: the recorded time stays
    assert json.loads((tmp_path / TIMING_FILE).read_text()) == first
    monkeypatch.setattr(results_sweeps, "sweep_command", lambda *args: [sys.executable, "-c", "raise SystemExit(2)"])
    with pytest.raises(UserError, match="exit code 2"):
        run_sweeps(tmp_path, [], names)


def test_holm_matches_its_step_down_definition():
    # Sorted p 0.001, 0.012, 0.02, 0.04 against 0.05/4, 0.05/3, 0.05/2, 0.05/1: each is at or below its bound, so all
    # are rejected; with 0.03 third (> 0.025) the step-down stops there, and 0.04 after it is kept too.
    assert holm_significant({"a": 0.04, "b": 0.001, "c": 0.02, "d": 0.012}) == dict.fromkeys("abcd", True)
    stopped = holm_significant({"a": 0.04, "b": 0.001, "c": 0.03, "d": 0.012})
    assert stopped == {"a": False, "b": True, "c": False, "d": True}  # 0.04 ≤ 0.05 but the step-down stopped
    assert holm_significant({"a": 0.03, "b": float("nan")}) == {"a": False, "b": False}  # m = 2: 0.03 > 0.025


def test_paired_p_value_is_the_t_test():
    values = [0.3, -0.1, 0.5, 0.2, 0.4]
    assert paired_p_value(values) == pytest.approx(stats.ttest_1samp(values, 0.0).pvalue)
    assert np.isnan(paired_p_value([0.1])) and paired_p_value([0.2, 0.2]) == 0.0


def test_one_unadjusted_significance_among_many_is_not_enough_after_holm():
    # 13 selectors where only one differs at p ≈ 0.01: unadjusted it would count, after Holm (0.05 / 13) it does not.
    rng = np.random.default_rng(0)
    p_values = {f"s{i}": float(rng.uniform(0.2, 0.9)) for i in range(12)} | {"lucky": 0.01}
    assert not any(holm_significant(p_values).values())


def test_the_page_holds_one_section_per_dataset(tmp_path, monkeypatch):
    fake_root(tmp_path / "root")
    twin = Dataset("twin", "Twin data", SYNTHETIC, BATCH, OOD, HEAD, "A hand-written note.")
    monkeypatch.setattr(results_page, "DATASETS", [DATASETS[0], twin])  # the fake root holds synthetic sweeps only
    main(["--skip-sweeps", "--root", str(tmp_path / "root"), "--page", str(tmp_path / "results.md"),
          "--figures", str(tmp_path / "results"), "--design-gap-pools", "2"])
    text = (tmp_path / "results.md").read_text()
    assert "## Synthetic data" in text and "## Twin data" in text and "A hand-written note." in text
    assert text.count("Verdict: **contradicted**") == 4  # claims (b) and (e) in each section, by the same rules


def test_claim_d_reads_the_shifted_split_and_shows_the_iid_one(page):
    text, root, _ = page
    folder = sweep_folder(root, OOD)

    def aucs(split: str, selector: str) -> list[float]:
        return [auc(folder / f"eval.split={split},seed={seed},selector={selector}") for seed in range(SEEDS)]

    claim = paragraph(text, "**(d)")
    for split in OOD_GAIN:
        delta = interval(list(np.subtract(aucs(split, "dopt"), aucs(split, "random"))))
        assert f"`dopt` {delta}" in claim
    assert "`dopt` " + interval(list(np.subtract(aucs("iid", "dopt"), aucs("iid", "random")))) + " *" in claim
    assert "Verdict: **not supported**" in claim and "the verdict reads the out-of-distribution split only" in claim
    assert f"| prompt_shift | `random` | {interval(aucs('prompt_shift', 'random'))} | — |" in text
    assert "(results/results_synthetic/deltas_checks.png)" in text


def test_claim_e_is_contradicted_by_one_head(page):
    text, root, _ = page
    folder = sweep_folder(root, HEAD)
    claim = paragraph(text, "**(e)")
    mlp = [auc(folder / f"reward_model=RewardMLP,seed={seed},selector={s}") for s in ("pastaware_dopt", "random")
           for seed in range(SEEDS)]
    assert f"`pastaware_dopt` {interval(list(np.subtract(mlp[:SEEDS], mlp[SEEDS:])))} *" in claim
    assert "with the linear head (supported)" in claim and "with the mlp head (contradicted)" in claim
    assert "Verdict: **contradicted**" in claim and "the claim is supported only when it is with every head" in claim


def test_metrics_table_holds_each_selectors_final_values(page):
    text, root, _ = page
    folder = sweep_folder(root, SYNTHETIC)
    section = text.split("### Reward-model metrics beyond Spearman", 1)[1].split("\n### ", 1)[0]
    tables = {setup: section.split(f"**{setup}**", 1)[1].split("\n\n**", 1)[0] for setup in ("in_prompt",
                                                                                         "cross_prompt")}
    for setup, selector in ((setup, selector) for setup in tables for selector in GAIN):
        cells = []
        for key in EXTRA:
            values = [json.loads((folder / f"setup={setup},seed={seed},selector={selector}" / "metrics.jsonl")
                                 .read_text().splitlines()[-1]).get(key) for seed in range(SEEDS)]
            if None in values:
                break
            half = stats.t.ppf(0.975, SEEDS - 1) * stats.sem(values)
            cells.append(f"{np.mean(values):.3f} ± {half:.3f}")
        row = f"| `{selector}` | {' | '.join(cells)} |"
        assert (row in tables[setup]) == ((selector, setup) != (OLDER_RUN[0], OLDER_RUN[2])), (setup, selector)
        assert (f"| `{selector}` |" in tables[setup]) == ((selector, setup) != (OLDER_RUN[0], OLDER_RUN[2]))
    assert "best-of-4 accuracy (higher is better) | pair NLL under the annotator (lower is better)" in section
    assert "Rank correlation" not in section  # 4 selectors at most: too few to rank
    assert "ran before these metrics existed: `entropy` (1 run without them;" in section
    assert "The runs of results_ood did not record bo4_accuracy" in section  # the fake check sweeps have none


def test_metric_agreement_is_signed_so_that_one_is_the_same_order():
    # Six selectors: bo4 accuracy rises with Spearman (same order), pair NLL falls with it (lower is better: also the
    # same order), pair ECE is unrelated to it by construction (a fixed permutation of the ranks).
    spearman = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    finals = pd.DataFrame({"selector": list("abcdef"), "spearman": spearman, "bo4_accuracy": spearman ** 2,
                           "pair_nll": 1 / spearman, "pair_ece": [0.3, 0.1, 0.6, 0.2, 0.5, 0.4]})
    expected = stats.spearmanr(spearman, -finals["pair_ece"]).statistic
    text = agreement(finals, ["bo4_accuracy", "pair_nll", "pair_ece"])
    assert f"bo4_accuracy 1.00, pair_nll 1.00, pair_ece {expected:.2f}." in text and "across the 6 selectors" in text
    assert agreement(finals.head(4), ["bo4_accuracy"]) == ""
