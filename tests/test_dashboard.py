"""The W&B dashboard spec, built offline: views per setup, curves per selector, sweep filters, sorted columns."""

import json
from typing import Any

import pytest
import wandb_workspaces.workspaces as ws

from benchmark import dashboard
from benchmark.loggers import scalar_summary
from benchmark.summary_metrics import summary_metrics


def saved_form(view: Any) -> dict[str, Any]:
    """What ``save()`` would send to W&B: the library's own serialisation of the view."""
    return json.loads(view._to_model().model_dump_json(by_alias=True, exclude_none=True))["spec"]["section"]


def test_one_view_per_setup_with_selector_curves_filtered_by_sweep():
    views = dashboard.build_workspaces("team", "arm-bench", sweep="smoke", bon_n=30)
    setups = ("in_prompt", "cross_prompt", "mixed")
    assert [v.name for v in views] == [f"arm-bench smoke: {setup}" for setup in setups]
    for view, setup in zip(views, setups, strict=True):
        sent = saved_form(view)
        (section,) = sent["panelBankConfig"]["sections"]
        assert section["name"] == f"{setup}: learning curves"
        panels = [panel["config"] for panel in section["panels"]]
        assert [p["metrics"] for p in panels] == [["one_minus_spearman"], ["bon/30"]]
        assert {(p["xAxis"], p["groupBy"], p["groupAgg"], p["groupArea"]) for p in panels} == {
            ("n_labels", "jobType", "mean", "stddev")}
        (runset,) = sent["runSets"]
        assert runset["grouping"] == [{"section": "run", "name": "group"}, {"section": "run", "name": "jobType"}]
        assert [(f["key"]["name"], f["op"], f["value"]) for f in runset["filters"]["filters"]] == [
            ("tags", "IN", [setup]), ("tags", "IN", ["sweep:smoke"])]
        assert runset["sort"]["keys"] == [
            {"key": {"section": "summary", "name": "auc/one_minus_spearman"}, "ascending": True}]
    every_sweep = saved_form(dashboard.build_workspace("t", "p", "in_prompt"))["runSets"][0]["filters"]["filters"]
    assert [f["value"] for f in every_sweep] == [["in_prompt"]]


def test_table_columns_are_the_summary_keys_the_logger_sends():
    records = [{"n_labels": n, "spearman": s, "one_minus_spearman": 1 - s, "bon/50": s}
               for n, s in [(10, 0.6), (20, 0.8)]]
    sent = dict(scalar_summary({"status": "finished", **summary_metrics(records, "bon/50", None)}))
    runset = saved_form(dashboard.build_workspace("t", "p", "in_prompt", bon_n=50))["runSets"][0]
    columns = runset["runFeed"]["columnOrder"]
    assert columns[0] == "run:displayName"
    assert [c.removeprefix("summary:") for c in columns[1:]] == [k for k in sent if k != "status"]
    assert f"summary:{dashboard.SORTED_BY}" in columns


def test_cli_prints_the_views_and_a_failed_save_is_one_line(monkeypatch, capsys):
    dashboard.main(["--entity", "t", "--project", "p", "--sweep", "s", "--setup", "cross_prompt"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "arm-bench s: cross_prompt (not saved; add --save)"
    assert "'sweep:s'" in lines[1] and lines[2].startswith("  grouping: by Group, then JobType")
    panels = [line for line in lines if line.startswith("  panel")]
    assert len(panels) == 2 and "one_minus_spearman against n_labels" in panels[0] and "bon/50" in panels[1]
    assert lines[-1].startswith("  table: columns run:displayName, summary:final/one_minus_spearman")
    assert lines[-1].endswith("sorted by auc/one_minus_spearman ascending")

    def no_login(self: ws.Workspace) -> None:
        raise RuntimeError("api_key not configured (no-tty)")

    monkeypatch.setattr(ws.Workspace, "save", no_login)
    with pytest.raises(SystemExit) as exit_info:
        dashboard.main(["--entity", "t", "--project", "p", "--save"])
    assert exit_info.value.code == 2
    assert "wandb login" in capsys.readouterr().err


@pytest.mark.parametrize(("sweep", "setups"), [("fig5_cross_prompt", ("cross_prompt",)), ("smoke", ("in_prompt",)),
                                               ("results_synthetic", ("in_prompt", "cross_prompt"))])
def test_views_are_built_only_for_the_setups_the_sweep_runs(sweep, setups, capsys):
    assert dashboard.sweep_setups(sweep) == setups
    dashboard.main(["--entity", "t", "--project", "p", "--sweep", sweep])
    built = [line for line in capsys.readouterr().out.splitlines() if line.endswith("(not saved; add --save)")]
    assert built == [f"arm-bench {sweep}: {setup} (not saved; add --save)" for setup in setups]


def test_an_ad_hoc_sweep_gets_both_views():
    assert dashboard.sweep_setups("adhoc-seed+selector-3f2a9c1e") is None
