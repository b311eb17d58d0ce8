"""The metric registry is the one place a metric is declared: marking a metric summarised (or shown in the round
table) makes it a headline number in summary.json, the summary table, the dashboard and the run's printed table,
with its direction from the registry, without editing any of them."""

import json
from dataclasses import replace

import pytest

from benchmark import dashboard, metrics
from benchmark.outputs import format_round_table
from benchmark.summary_metrics import summary_keys, summary_metrics
from plots.curves import choose_metrics, line_order
from plots.loading import read_runs
from plots.tables import summary_table, to_markdown
from tests.test_results import write_run


@pytest.fixture
def kendall_headline(monkeypatch):
    """The registry with kendall_tau summarised and shown in the round table."""
    registry = tuple(replace(m, summarised=True, round_table=True, short="τ") if m.key == "kendall_tau" else m
                     for m in metrics.METRICS)
    monkeypatch.setattr(metrics, "METRICS", registry)


def records(taus):
    return [{"round": i, "n_labels": 10 * (i + 1), "spearman": 0.5, "one_minus_spearman": 0.5, "bon/10": 1.0,
             "kendall_tau": tau} for i, tau in enumerate(taus)]


def test_a_summarised_metric_reaches_summary_json_and_the_dashboard(kendall_headline):
    summary = summary_metrics(records([0.2, 0.4]), "bon/10")
    assert summary["final/kendall_tau"] == 0.4 and summary["auc/kendall_tau"] == pytest.approx(0.3)
    assert summary_keys("bon/10")[:6] == ["final/one_minus_spearman", "auc/one_minus_spearman", "final/kendall_tau",
                                          "auc/kendall_tau", "final/bon/10", "auc/bon/10"]  # registry order
    view = dashboard.build_workspace("t", "p", "in_prompt", bon_n=10)
    sent = json.loads(view._to_model().model_dump_json(by_alias=True, exclude_none=True))["spec"]["section"]
    panels = sent["panelBankConfig"]["sections"][0]["panels"]
    assert [p["config"]["metrics"] for p in panels] == [["one_minus_spearman"], ["kendall_tau"], ["bon/10"]]
    assert "summary:final/kendall_tau" in sent["runSets"][0]["runFeed"]["columnOrder"]


def test_a_round_table_metric_is_a_column_of_the_printed_table(kendall_headline):
    timings = [{"selection_seconds": 0.0, "train_seconds": 0.1}] * 2
    table = format_round_table(records([0.2, 0.4]), timings, "bon/10")
    assert table.splitlines()[0].split() == ["round", "n_labels", "spearman", "kendall_tau", "bon/10", "select", "s",
                                             "train", "s"]
    assert "0.4000" in table.splitlines()[-1]


def test_a_summarised_metric_gets_summary_table_columns_and_its_direction(kendall_headline, tmp_path):
    for seed in range(2):
        for selector, tau in (("random", 0.1), ("dopt", 0.3)):
            folder = write_run(tmp_path, selector, seed, [0.5, 0.6])
            lines = [{**json.loads(line), "kendall_tau": tau + 0.01 * seed}
                     for line in (folder / "metrics.jsonl").read_text().splitlines()]
            (folder / "metrics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    frame = read_runs([tmp_path])
    table = summary_table(frame, "bon/10").set_index("selector")
    assert table.loc["dopt", "final_kendall_tau_mean"] == pytest.approx(0.305)
    assert table.loc["dopt", "delta_auc_kendall_tau_mean"] == pytest.approx(0.2)
    text = to_markdown(table.reset_index(), "bon/10")
    assert "final τ" in text and "Δ AUC τ" in text and "higher for τ, BoN-10" in text
    (tau,) = choose_metrics(["kendall_tau"], "bon/10", frame)
    assert tau.lower_is_better is False and tau.label == "Kendall τ-b"
    assert line_order(frame, tau) == ["dopt", "random"]  # higher τ first
