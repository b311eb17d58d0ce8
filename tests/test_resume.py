"""A run killed at any point, then rerun, ends with the same files as a run that was never interrupted."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from benchmark import checkpoint
from benchmark.errors import UserError
from benchmark.experiment import resumed_config
from benchmark.outputs import RunFolder
from benchmark.runner import run_experiment
from benchmark.spec import result_yaml
from tests.conftest import TINY, compose_config

#: Four rounds, so a subprocess can be killed part-way through; warm_start makes the next round train from
#: the checkpointed weights (besides selecting with them), so a resumed run also checks they round-trip.
LONG = ("budget=60", "reward_model.warm_start=true")
ROUNDS = 4


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The uninterrupted run that every interrupted one must reproduce."""
    run_dir = tmp_path_factory.mktemp("reference") / "run"
    run_experiment(compose_config(*LONG), run_dir)
    return run_dir


def assert_same_results(run_dir: Path, reference: Path) -> None:
    assert (run_dir / "metrics.jsonl").read_bytes() == (reference / "metrics.jsonl").read_bytes()
    timings = [json.loads(line)["round"] for line in (run_dir / "timings.jsonl").read_text().splitlines()]
    assert timings == list(range(ROUNDS))
    for round_index in range(ROUNDS):
        name = f"round_{round_index:03d}.npz"
        with np.load(run_dir / "selections" / name) as ours, np.load(reference / "selections" / name) as theirs:
            assert np.array_equal(ours["pairs"], theirs["pairs"]) and np.array_equal(ours["labels"], theirs["labels"])
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "finished"
    assert not RunFolder(run_dir).checkpoint.exists()
    assert not list(run_dir.rglob("*.tmp")), "a temporary file of an interrupted write was left behind"


def test_sigkill_mid_run_then_rerun_gives_identical_metrics(reference, tmp_path):
    command = [sys.executable, "-m", "benchmark", *TINY, *LONG, f"output_root={tmp_path}"]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    metrics: list[Path] = []
    while time.monotonic() < deadline and process.poll() is None:
        metrics = list((tmp_path / "runs").glob("*/metrics.jsonl"))
        if metrics and len(metrics[0].read_text().splitlines()) >= 2:  # round 0's checkpoint is written
            break
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert metrics, "the run never wrote metrics"
    run_dir = metrics[0].parent
    assert not (run_dir / "summary.json").exists(), "killed too late: the run had finished"

    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert_same_results(run_dir, reference)
    assert json.loads((run_dir / "summary.json").read_text())["resumed_after_round"] >= 0


def test_crash_after_metrics_before_checkpoint_resumes_via_resume_path(reference, tmp_path, monkeypatch):
    """The metrics line of round 2 is written but never committed: resuming redoes round 2 exactly once."""
    run_dir = tmp_path / "run"
    save = checkpoint.save

    def crash_at_round_2(folder, round_index, model):
        if round_index == 2:
            raise KeyboardInterrupt
        save(folder, round_index, model)

    monkeypatch.setattr(checkpoint, "save", crash_at_round_2)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(compose_config(*LONG), run_dir)
    monkeypatch.setattr(checkpoint, "save", save)
    failed = json.loads((run_dir / "summary.json").read_text())
    assert failed["status"] == "interrupted" and failed["failed_round"] == 2
    assert len((run_dir / "metrics.jsonl").read_text().splitlines()) == 3

    with pytest.raises(UserError, match=r"holds an unfinished run whose config differs in seed; pass overwrite=true"):
        run_experiment(compose_config(*LONG, "seed=1"), run_dir)
    (run_dir / "selections" / ".round_002.npz.x1y2.tmp").write_bytes(b"half a file")
    cfg, resumed_dir = resumed_config(compose_config(f"resume={run_dir}"), [f"resume={run_dir}"])
    summary = run_experiment(cfg, resumed_dir)
    assert summary["resumed_after_round"] == 1
    assert_same_results(run_dir, reference)


def test_resume_path_refuses_overrides_that_change_results(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.yaml").write_text(result_yaml(compose_config("seed=7")))
    with pytest.raises(UserError, match=r"drop selector=random"):
        resumed_config(compose_config(f"resume={run_dir}"), [f"resume={run_dir}", "logger=none", "selector=random"])
    cfg, _ = resumed_config(compose_config(f"resume={run_dir}", "logger=wandb"), [f"resume={run_dir}", "logger=wandb"])
    assert cfg.seed == 7 and cfg.logger.mode == "offline" and cfg.resume == str(run_dir)


def test_resume_takes_every_run_only_key_of_this_command_dataset_generate_included(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.yaml").write_text(result_yaml(compose_config("seed=7")))
    here = ["++dataset.generate=false", f"dataset.cache_dir={tmp_path / 'elsewhere'}", "torch_threads=2"]
    cfg, _ = resumed_config(compose_config(f"resume={run_dir}", *here), [f"resume={run_dir}", *here])
    assert cfg.dataset.generate is False and cfg.dataset.cache_dir == str(tmp_path / "elsewhere")
    assert cfg.torch_threads == 2 and cfg.seed == 7


def test_finished_run_is_redone_only_with_overwrite(reference, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(reference, run_dir)
    refusal = r"holds a finished run whose config differs in budget, reward_model\.warm_start; pass overwrite=true"
    with pytest.raises(UserError, match=refusal):
        run_experiment(compose_config("budget=40"), run_dir)
    assert (run_dir / "metrics.jsonl").read_bytes() == (reference / "metrics.jsonl").read_bytes()
    finished = (run_dir / "summary.json").read_text()
    run_experiment(compose_config(*LONG), run_dir)
    assert (run_dir / "summary.json").read_text() == finished, "the same config is skipped, not redone"
    run_experiment(compose_config("budget=40", "overwrite=true"), run_dir)
    assert len((run_dir / "metrics.jsonl").read_text().splitlines()) == 3
    assert not (run_dir / "selections" / "round_003.npz").exists()
