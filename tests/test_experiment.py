"""End-to-end runs: outputs, determinism, and paired randomness across selectors."""

import json
import os
import subprocess
import sys

import numpy as np

from benchmark.runner import run_experiment


def test_run_writes_every_output(make_config, run_dir):
    summary = run_experiment(make_config("selector=dopt"), run_dir)
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["round"] for r in rows] == [0, 1, 2]
    assert [r["n_labels"] for r in rows] == [20, 40, 60]
    for key in ("spearman", "one_minus_spearman", "bon/20", "bon_oracle/20", "bon_random/20", "test_accuracy",
                "train_loss", "train_accuracy", "fisher_logdet", "batch_cross_prompt_fraction"):
        assert key in rows[-1]
    assert rows[-1]["bon_random/20"] <= rows[-1]["bon/20"] + 1.0 and rows[-1]["bon/20"] <= rows[-1]["bon_oracle/20"]
    timings = [json.loads(line) for line in (run_dir / "timings.jsonl").read_text().splitlines()]
    assert {"selection_seconds", "train_seconds"} <= set(timings[1])
    assert summary["status"] == "finished" and summary["final"]["n_labels"] == 60
    assert {"auc/one_minus_spearman", "auc/bon/20", "final/bon/20", "labels_to_target/spearman"} <= set(summary)
    assert summary["labels"] == {"preset": "quick", "dataset": "synthetic", "model": "synthetic", "setup": "in_prompt",
                                 "batch": "b20", "selector": "dopt"}
    assert len(summary["data_checksums"]) == 4
    saved = np.load(run_dir / "selections" / "round_001.npz")
    assert saved["pairs"].shape == (20, 2) and set(np.unique(saved["labels"])) <= {0, 1}
    assert "selector:" in (run_dir / "config.yaml").read_text()


def test_same_seed_gives_byte_identical_metrics(make_config, tmp_path):
    cfg = make_config("selector=pastaware_dopt")
    run_experiment(cfg, tmp_path / "a")
    run_experiment(cfg, tmp_path / "b")
    assert (tmp_path / "a" / "metrics.jsonl").read_bytes() == (tmp_path / "b" / "metrics.jsonl").read_bytes()


def test_selectors_share_prompts_initial_batch_and_label_noise(make_config, tmp_path):
    for name in ("random", "entropy"):
        run_experiment(make_config(f"selector={name}", "annotator.beta=0.5"), tmp_path / name)
    first = {r: np.load(tmp_path / "random" / "selections" / f"round_{r:03d}.npz") for r in (0, 1, 2)}
    second = {r: np.load(tmp_path / "entropy" / "selections" / f"round_{r:03d}.npz") for r in (0, 1, 2)}
    assert np.array_equal(first[0]["pairs"], second[0]["pairs"])
    assert np.array_equal(first[0]["labels"], second[0]["labels"])
    round0 = [json.loads((tmp_path / n / "metrics.jsonl").read_text().splitlines()[0]) for n in ("random", "entropy")]
    assert round0[0] == round0[1]
    # Round-1 pairs come from the same prompts; a pair both picked gets the same (noisy) label.
    prompts = [set((s[1]["pairs"] // 10).ravel()) for s in (first, second)]
    assert prompts[0] >= prompts[1] or prompts[1] >= prompts[0] or prompts[0] & prompts[1]
    labels = {}
    for selections in (first, second):
        for r in (1, 2):
            for pair, label in zip(map(tuple, selections[r]["pairs"]), selections[r]["labels"], strict=True):
                assert labels.setdefault(pair, label) == label


def test_cli_runs_from_another_directory(tmp_path):
    from tests.conftest import TINY

    env = {**os.environ, "ARM_BENCH_CACHE": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "benchmark", *TINY, f"output_root={tmp_path / 'out'}", "selector=entropy"]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "n_labels" in done.stdout and "outputs:" in done.stdout
    run_dirs = list((tmp_path / "out" / "runs").iterdir())
    assert len(run_dirs) == 1 and (run_dirs[0] / ".hydra" / "config.yaml").exists()
    assert len((run_dirs[0] / "metrics.jsonl").read_text().splitlines()) == 3
    again = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "already holds this finished run" in again.stdout + again.stderr


def test_cli_bad_input_is_one_line(tmp_path):
    from tests.conftest import TINY

    env = {**os.environ, "ARM_BENCH_CACHE": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "benchmark", *TINY, f"output_root={tmp_path}", "budget=30"]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("arm-bench: error: budget=30 is not a multiple")
    assert "Traceback" not in done.stderr
