"""The tidy frame of run folders (benchmark.load_runs): its shape and columns, settings named from what varies,
null metrics, unfinished and older run folders. ``write_run`` builds run folders in the current format without
training anything; tests/test_plots.py uses it too."""

import json
import math
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from benchmark.errors import UserError
from benchmark.results import load_runs

CONFIG: dict[str, Any] = {
    "seed": 0, "budget": 20, "initial_labels": 10,
    "batch": {"size": 10}, "setup": {"pairing": "in_prompt"}, "model": {"dim": 16},
    "dataset": {"_target_": "benchmark.data.synthetic.SyntheticDataset", "train_prompts": 120},
    "reward_model": {"width": 16, "device": "cpu"}, "eval": {"bon_n": [5, 10]},
}


def nested(dotted: dict[str, Any]) -> dict[str, Any]:
    tree: dict[str, Any] = json.loads(json.dumps(CONFIG))
    for key, value in dotted.items():
        *parents, leaf = key.split(".")
        node = tree
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return tree


def write_run(
    root: Path, selector: str, seed: int, spearman: Sequence[float | None], *, config: dict[str, Any] | None = None,
    labels: dict[str, str] | None = None, status: str = "finished", allow_changed_inputs: bool = False,
    selection_seconds: Sequence[float] | None = None, name: str = "",
) -> Path:
    """A run folder as the runner writes it: config.yaml (result keys only, no ``name:`` keys), metrics.jsonl
    (null where a metric is undefined), timings.jsonl and summary.json with ``labels``. ``config`` holds dotted
    overrides of :data:`CONFIG`; n_labels are 10, 20, ...; bon/5 = ρ and bon/10 = 2ρ."""
    folder = root / f"{name}seed={seed},selector={selector}"
    folder.mkdir(parents=True)
    tree = nested({"seed": seed, "selector._target_": f"benchmark.selectors.{selector}.Selector", **(config or {})})
    (folder / "config.yaml").write_text(yaml.safe_dump(tree))
    metrics = [{"round": i, "n_labels": 10 * (i + 1), "spearman": s, "one_minus_spearman": None if s is None else 1 - s,
                "bon/5": s, "bon/10": None if s is None else 2 * s, "fisher_logdet": None}
               for i, s in enumerate(spearman)]
    (folder / "metrics.jsonl").write_text("".join(json.dumps(m) + "\n" for m in metrics))
    seconds = selection_seconds or [0.1 * i for i in range(len(spearman))]
    timings = [{"round": i, "selection_seconds": t, "train_seconds": 1.0} for i, t in enumerate(seconds)]
    (folder / "timings.jsonl").write_text("".join(json.dumps(t) + "\n" for t in timings))
    summary = {
        "status": status, "allow_changed_inputs": allow_changed_inputs, "rounds": len(spearman) - 1,
        "labels": {"preset": "quick", "dataset": "synthetic", "model": "synthetic", "setup": "in_prompt",
                   "batch": f"b{tree['batch']['size']}", "selector": selector, **(labels or {})},
    }
    if status == "failed":
        summary["reason"] = "RuntimeError: boom"
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


def test_one_row_per_run_and_round_with_every_column(tmp_path):
    for selector in ("random", "dopt"):
        for seed in (0, 1):
            write_run(tmp_path, selector, seed, [0.5, 0.6, 0.7])
    frame = load_runs(tmp_path)
    assert frame.shape[0] == 2 * 2 * 3 and frame["run"].nunique() == 4
    assert {"run", "status", "reason", "allow_changed_inputs", "setting", "line", "preset", "dataset", "model",
            "setup", "batch", "selector", "seed", "round", "n_labels", "spearman", "bon/10", "selection_seconds",
            "train_seconds", "batch.size", "reward_model.width", "eval.bon_n", "selector._target_"} <= set(frame)
    assert list(frame.columns[:6]) == ["run", "status", "reason", "allow_changed_inputs", "inputs_changed", "setting"]
    assert set(frame["setting"]) == {"all runs"} and set(frame["line"]) == {"random", "dopt"}
    row = frame[(frame["selector"] == "dopt") & (frame["seed"] == 1) & (frame["round"] == 2)].iloc[0]
    assert (row["n_labels"], row["spearman"], row["bon/10"], row["selection_seconds"]) == (30, 0.7, 1.4, 0.2)
    assert row["eval.bon_n"] == (5, 10) and row["batch.size"] == 10 and row["status"] == "finished"


def test_null_metrics_are_nan(tmp_path):
    write_run(tmp_path, "random", 0, [0.5, None])
    frame = load_runs(tmp_path)
    assert frame["fisher_logdet"].dtype == float and frame["fisher_logdet"].isna().all()
    assert math.isnan(frame["one_minus_spearman"].iloc[1]) and frame["one_minus_spearman"].iloc[0] == 0.5


def test_settings_show_only_the_labels_and_keys_that_tell_cells_apart(tmp_path):
    for selector in ("random", "dopt"):
        for model, dim in (("gemma7b", 3072), ("gemma2b", 2048)):
            for size in (1000, 125):
                write_run(tmp_path, selector, 0, [0.5, 0.6], labels={"model": model},
                          config={"model.dim": dim, "batch.size": size, "selector.eps": 1e-3},
                          name=f"{model}-{size}-")
    frame = load_runs(tmp_path)
    # model.dim follows the model label; batch.size gives the batch label; selector keys never make a setting
    assert list(frame["setting"].cat.categories) == ["gemma2b, b125", "gemma2b, b1000", "gemma7b, b125",
                                                     "gemma7b, b1000"]
    assert frame.groupby("setting", observed=True)["run"].nunique().tolist() == [2, 2, 2, 2]


def test_numeric_keys_and_selector_variants_are_described_from_values(tmp_path):
    for width in (256, 32):
        for eps in (1e-6, 1e-3):
            write_run(tmp_path, "dopt", 0, [0.5], config={"reward_model.width": width, "selector.eps": eps},
                      name=f"{width}-{eps}-")
    frame = load_runs(tmp_path)
    assert list(frame["setting"].cat.categories) == ["width=32", "width=256"]
    assert sorted(frame["line"].unique()) == ["dopt, eps=0.001", "dopt, eps=1e-06"]


def test_labels_alone_do_not_split_a_cell(tmp_path):
    """The setting is the result-defining cell: two label spellings of identical configs are one setting."""
    write_run(tmp_path, "random", 0, [0.5], labels={"model": "a"}, name="a-")
    write_run(tmp_path, "dopt", 0, [0.5], labels={"model": "b"}, name="b-")
    assert set(load_runs(tmp_path)["setting"]) == {"all runs"}


def test_unfinished_runs_are_left_out_unless_asked_for(tmp_path):
    write_run(tmp_path, "random", 0, [0.5, 0.6])
    write_run(tmp_path, "dopt", 0, [0.5], status="failed")
    no_summary = write_run(tmp_path, "bald", 0, [])
    (no_summary / "summary.json").unlink()
    (no_summary / ".hydra").mkdir()  # labels then come from Hydra's recorded choices and the values
    choices = {"selector": "bald", "experiment": "paper", "dataset": "synthetic", "model": "synthetic"}
    (no_summary / ".hydra" / "hydra.yaml").write_text(yaml.safe_dump({"hydra": {"runtime": {"choices": choices}}}))
    assert load_runs(tmp_path)["run"].nunique() == 1
    frame = load_runs(tmp_path, include_unfinished=True)
    status = frame.groupby("selector")["status"].first().to_dict()
    assert status == {"random": "finished", "dopt": "failed", "bald": "unfinished"}
    assert frame.loc[frame["selector"] == "dopt", "reason"].iloc[0] == "RuntimeError: boom"
    bald = frame[frame["selector"] == "bald"]
    assert len(bald) == 1 and bald["spearman"].isna().all()  # one row, no rounds yet
    assert bald[["preset", "setup", "batch"]].iloc[0].tolist() == ["paper", "in_prompt", "b10"]


def test_older_folders_with_top_level_names_and_run_only_keys_load(tmp_path):
    folder = write_run(tmp_path, "dopt", 0, [0.5, 0.6], config={"output_root": "/x", "torch_threads": 1})
    summary = json.loads((folder / "summary.json").read_text())
    labels = summary.pop("labels")
    del labels["preset"]
    (folder / "summary.json").write_text(json.dumps({**summary, **labels}))
    frame = load_runs(tmp_path)
    assert frame["selector"].iloc[0] == "dopt" and frame["preset"].iloc[0] == "none"
    assert "output_root" not in frame and "torch_threads" not in frame
    assert not frame["allow_changed_inputs"].any()


def test_missing_folder_and_no_runs_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_runs(tmp_path / "missing")
    write_run(tmp_path, "dopt", 0, [0.5], status="interrupted")
    with pytest.raises(UserError, match="no finished runs"):
        load_runs(tmp_path)


def test_load_runs_is_exported_lazily():
    code = "import sys, benchmark; assert 'pandas' not in sys.modules; from benchmark import load_runs; print('ok')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr


def test_a_damaged_run_is_skipped_with_one_warning_naming_it_or_refused_when_strict(tmp_path, caplog):
    for seed in (0, 1):
        write_run(tmp_path, "random", seed, [0.5, 0.6])
    damaged = write_run(tmp_path, "dopt", 0, [0.5, 0.7])
    (damaged / "metrics.jsonl").write_text('{"round": 0, "n_labels": 10, "spear')
    with caplog.at_level("WARNING"):
        frame = load_runs(tmp_path)
    assert sorted(frame["selector"].unique()) == ["random"]
    (line,) = [r.getMessage() for r in caplog.records if "damaged" in r.getMessage()]
    assert line.startswith(f"skipped the damaged run {damaged.resolve()}: ") and "metrics.jsonl" in line
    with pytest.raises(UserError, match=r"metrics\.jsonl"):
        load_runs(tmp_path, strict=True)


def test_symlinked_run_folders_are_followed_each_run_once_without_looping(tmp_path):
    """Runs linked into one folder from several places are all read; a link back up the tree, a link loop and a
    dangling link do not stop or repeat anything."""
    here = write_run(tmp_path / "collection", "random", 0, [0.5, 0.6])
    linked = [write_run(tmp_path / place, "dopt", seed, [0.5, 0.7]) for seed, place in enumerate(("lab", "laptop"))]
    for run in linked:
        (tmp_path / "collection" / f"{run.parent.name}-{run.name}").symlink_to(run)
    (tmp_path / "collection" / "sweep").symlink_to(linked[0].parent)  # the lab's folder: its run a second time
    (tmp_path / "collection" / "up").symlink_to(tmp_path / "collection")
    (tmp_path / "collection" / "loop").symlink_to(tmp_path / "collection" / "loop")
    (tmp_path / "collection" / "gone").symlink_to(tmp_path / "nowhere")
    frame = load_runs(tmp_path / "collection")
    assert sorted(frame["run"].unique()) == sorted(str(run.resolve()) for run in (here, *linked))
    assert len(frame) == 3 * 2
