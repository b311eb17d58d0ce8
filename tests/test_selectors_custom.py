"""A selector defined outside the package runs end to end from `selector._target_`, with no registry edit."""

import json

import numpy as np

from benchmark.runner import run_experiment


def test_custom_selector_runs_end_to_end(make_config, run_dir):
    cfg = make_config("selector=random", "selector._target_=tests.custom_selector.SmallMarginSelector",
                      "selector.name=small_margin", "+selector.margin=0.3")
    summary = run_experiment(cfg, run_dir)
    assert summary["status"] == "finished" and summary["selector"] == "small_margin"
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["n_labels"] for r in rows] == [20, 40, 60]
    assert "tests.custom_selector.SmallMarginSelector" in (run_dir / "config.yaml").read_text()
    # The custom rule favours close calls: its batches have smaller gaps than the random initial batch.
    assert rows[1]["batch_mean_abs_reward_diff"] < 0.3
    assert np.load(run_dir / "selections" / "round_001.npz")["pairs"].shape == (20, 2)
