"""The bad-input matrix (README "Reliability"): every mistake stops with one line naming the key or file and the fix.

Config and data cases run in-process (compose, then ``run_experiment``) and must leave no run folder;
runtime cases keep what the run produced and mark it failed; a few cases go through the real CLI to
check the exit code and that stderr is one line without a traceback.
"""

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from benchmark import memory
from benchmark.config import instantiate_checked
from benchmark.errors import TrainingDiverged, UserError
from benchmark.experiment import resumed_config
from benchmark.loop import check_against_data
from benchmark.runner import run_experiment
from benchmark.spec import RunSpec
from tests.conftest import TINY

#: (overrides, a regex the error must match); the message names the key and says what to do.
COMPOSE_CASES = {
    "unknown group option": (["selector=nope"], r"Could not find 'selector/nope'.*Available options.*dopt"),
    "typo in a group's key": (["reward_model.widht=3"], r"reward_model\.widht"),
    "typo in a top-level key": (["budgett=10"], r"budgett"),
    "text for a number": (["budget=lots"], r"budget.*could not be converted to Integer"),
}

RUN_CASES = {
    "a setup name its class does not have": (["setup.pairing=diagonal"],
                                            r"setup\.pairing=diagonal but .*InPrompt is the pairing 'in_prompt'; "
                                            r"choose a setup with setup=NAME"),
    "zero batch": (["batch.size=0"], r"batch\.size=0 must be positive"),
    "negative batch": (["batch.size=-5"], r"batch\.size=-5 must be positive"),
    "zero budget": (["budget=0"], r"budget=0 must be positive"),
    "negative initial labels": (["initial_labels=-1"], r"initial_labels=-1 must be positive"),
    "zero prompts per round": (["prompts_per_round=0"], r"prompts_per_round=0 must be positive"),
    "zero pool cap": (["candidates_per_round=0"], r"candidates_per_round=0 must be positive, or null"),
    "zero width": (["reward_model.width=0"],
                   r"reward_model \(benchmark\.reward_model\.RewardMLP\): width=0 must be positive"),
    "negative lr": (["reward_model.lr=-0.1"], r"reward_model\.lr=-0\.1 must be positive"),
    "negative seed": (["seed=-1"], r"seed=-1 must be zero or positive"),
    "zero BoN N": (["eval.bon_n=[0,5]"], r"eval\.bon_n\[0\]=0 must be positive"),
    "zero eval chunk": (["eval.chunk_prompts=0"], r"eval\.chunk_prompts=0 must be positive"),
    "batch larger than pool": (
        ["batch.size=500", "budget=500"], r"batch\.size=500 exceeds the 200 candidate pairs.*lower batch\.size"
    ),
    "initial batch larger than pool": (["initial_labels=300"], r"initial_labels=300 exceeds the 200 candidate pairs"),
    "rounds x batch > available pairs": (
        ["budget=6000"], r"initial_labels \+ budget = 6020 exceeds the 5400 distinct in_prompt pairs.*lower budget"
    ),
    "budget not a multiple of batch": (["budget=50"], r"budget=50 is not a multiple of batch\.size=20.*budget=40"),
    "more prompts than the data has": (["prompts_per_round=500"], r"prompts_per_round=500 exceeds the 120 train"),
    "beta = 0": (["annotator.beta=0"], r"annotator\.beta=0 makes every label a coin flip; use beta>0"),
    "negative annotator scale": (["annotator.scale=-1"], r"annotator\.scale=-1\.0 must be positive"),
    "unknown selector parameter": (["+selector.epz=1"], r"selector .*'epz'.*parameters it accepts: eps"),
    "selector class not importable": (
        ["selector._target_=nowhere.Nothing"], r"selector\._target_=nowhere\.Nothing: cannot import it"
    ),
    "bad selector parameter value": (["selector.eps=0"], r"selector \(.*DOptimalSelector\): eps must be positive"),
    "synthetic ranks exceed dim": (["dataset.prompt_rank=20"], r"dataset \(.*\): prompt_rank \+ response_rank"),
    "synthetic data without a dim": (
        ["model=custom", "model.dim=null"], r"synthetic dataset needs model\.dim.*model=synthetic"
    ),
    "unknown device": (["reward_model.device=tpu9"], r"device='tpu9' is not a torch device; use auto, cpu"),
    "model too large for memory": (
        ["reward_model.width=300000"], r"needs about .* GiB of host memory .*reward model .*lower reward_model\.width"
    ),
}


@pytest.mark.parametrize(("overrides", "match"), COMPOSE_CASES.values(), ids=COMPOSE_CASES.keys())
def test_config_mistakes_fail_when_hydra_composes(make_config, overrides, match):
    with pytest.raises(Exception) as caught:
        make_config(*overrides)
    message = f"{caught.value} {caught.value.__cause__}"
    assert re.search(match, message, flags=re.S), message


@pytest.mark.parametrize(("overrides", "match"), RUN_CASES.values(), ids=RUN_CASES.keys())
def test_config_mistakes_stop_before_round_0_and_write_nothing(make_config, run_dir, overrides, match):
    with pytest.raises(UserError, match=match) as caught:
        run_experiment(make_config(*overrides), run_dir)
    assert "\n" not in str(caught.value)
    assert not run_dir.exists()


def test_model_dim_that_does_not_match_the_data(make_config, run_dir):
    with pytest.raises(UserError, match=r"model\.dim=64 but dataset 'toy2d' has embeddings of dim 2; choose"):
        run_experiment(make_config("dataset=toy2d", "logger=none", "prompts_per_round=10", tiny=False), run_dir)


def test_pool_too_large_for_memory(make_config, run_dir, monkeypatch):
    monkeypatch.setattr(memory, "available_host_bytes", lambda: 20 << 20)
    cfg = make_config("setup=cross_prompt", "prompts_per_round=120", "candidates_per_round=700000")
    with pytest.raises(UserError, match=r"20\.0 MiB is available.*candidate pool \(700,000 pairs\).*lower candidates"):
        run_experiment(cfg, run_dir)
    assert not run_dir.exists()


def test_training_that_diverges_stops_with_the_round_and_a_hint(make_config, run_dir):
    with pytest.raises(TrainingDiverged, match=r"^round 0: reward model training diverged.*lower reward_model\.lr"):
        run_experiment(make_config("reward_model.lr=1e30"), run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "failed" and "diverged" in summary["reason"] and summary["failed_round"] == 0
    assert not (run_dir / "metrics.jsonl").exists(), "no NaN metrics line"


def test_failure_after_round_0_keeps_completed_rounds_and_is_marked_failed(make_config, run_dir, monkeypatch):
    from benchmark import loop

    train = loop.train_bradley_terry

    def diverge_in_round_1(model, embeddings, first, *args, **kwargs):
        if len(first) > 20:
            raise TrainingDiverged("reward model training diverged (loss=nan) at step 3; lower reward_model.lr")
        return train(model, embeddings, first, *args, **kwargs)

    monkeypatch.setattr(loop, "train_bradley_terry", diverge_in_round_1)
    with pytest.raises(TrainingDiverged, match=r"^round 1: "):
        run_experiment(make_config(), run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["rounds_completed"] == 1
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["round"] for r in rows] == [0] and np.isfinite(rows[0]["spearman"])


def test_resume_path_without_a_run(make_config, tmp_path):
    with pytest.raises(UserError, match=r"resume=.*config\.yaml does not exist; pass the folder of an earlier run"):
        resumed_config(make_config(f"resume={tmp_path / 'nowhere'}"), [f"resume={tmp_path / 'nowhere'}"])


# --- data files (dataset=embeddings): each corruption of a valid set of files, and the message it gives ---

TRAIN, TEST = (30, 4, 8), (6, 5, 8)


def embd(root: Path, split: str) -> Path:
    return root / f"embd_custom_custom_t_{split}.npy"


def reward(root: Path, split: str) -> Path:
    return root / f"reward_custom_custom_t_{split}.npy"


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    """Valid train and test files of a tiny dataset in the authors' layout."""
    rng = np.random.default_rng(0)
    for split, shape in (("train", TRAIN), ("test", TEST)):
        np.save(embd(tmp_path, split), rng.standard_normal(shape).astype(np.float32))
        np.save(reward(tmp_path, split), rng.standard_normal((*shape[:2], 1)).astype(np.float32))
    return tmp_path


def data_config(make_config, root: Path, *overrides: str):
    return make_config(
        "logger=none", "dataset=embeddings", "model=custom", f"dataset.root={root}", "dataset.task=t",
        "reward_model.width=8", "reward_model.steps=5", "prompts_per_round=10", "candidates_per_round=null",
        "initial_labels=10", "batch.size=10", "budget=10", "eval.bon_repeats=2", *overrides, tiny=False,
    )


def with_value(path: Path, index: tuple[int, ...], value: float) -> None:
    array = np.load(path)
    array[index] = value
    np.save(path, array)


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def one_response_per_prompt(root: Path) -> None:
    np.save(embd(root, "train"), np.zeros((30, 1, 8), np.float32))
    np.save(reward(root, "train"), np.zeros((30, 1, 1), np.float32))


def replaced_by(path: Path, make: Callable[[Path], object]) -> None:
    """``path`` is replaced by what ``make`` puts there (a link, a folder)."""
    path.unlink()
    make(path)


def several_arrays(path: Path) -> None:
    with open(path, "wb") as file:
        np.savez(file, first=np.zeros(3), second=np.zeros(3))


DATA_CASES: dict[str, tuple[Callable[[Path], object], list[str], str]] = {
    "missing file": (lambda r: reward(r, "test").unlink(), [],
                     r"missing data file .*reward_custom_custom_t_test\.npy; download"),
    "embeddings not 3-D": (lambda r: np.save(embd(r, "train"), np.zeros((30, 8), np.float32)), [],
                           r"embd_custom_custom_t_train\.npy has shape \(30, 8\); expected \(prompts N"),
    "rewards of another shape": (lambda r: np.save(reward(r, "train"), np.zeros((30, 4), np.float32)), [],
                                 r"reward_custom_custom_t_train\.npy has shape \(30, 4\).*expected rewards of shape"),
    "NaN embedding": (lambda r: with_value(embd(r, "train"), (3, 1, 2), np.nan), [],
                      r"embd_custom_custom_t_train\.npy has 1 NaN/inf values \(first at index \(3, 1, 2\)\)"),
    "inf reward": (lambda r: with_value(reward(r, "test"), (0, 2, 0), np.inf), [],
                   r"reward_custom_custom_t_test\.npy has 1 NaN/inf values"),
    "train/test dims differ": (lambda r: np.save(embd(r, "test"), np.zeros((6, 5, 6), np.float32)), [],
                               r"has dim 8 but .*embd_custom_custom_t_test\.npy has dim 6; train and test"),
    "truncated file": (lambda r: truncate(embd(r, "train")), [],
                       r"embd_custom_custom_t_train\.npy is not a readable \.npy array .*truncated"),
    "integer dtype": (lambda r: np.save(embd(r, "train"), np.zeros(TRAIN, np.int64)), [],
                      r"embd_custom_custom_t_train\.npy has dtype int64; expected one of float16, float32"),
    "K < 2": (one_response_per_prompt, [],
              r"embd_custom_custom_t_train\.npy has K=1 response per prompt; comparisons need K >= 2"),
    "several arrays in one file": (lambda r: several_arrays(embd(r, "train")), [],
                                   r"embd_custom_custom_t_train\.npy holds several arrays"),
    "a symlink loop for a file": (lambda r: replaced_by(embd(r, "train"), lambda p: p.symlink_to(p)), [],
                                  r"embd_custom_custom_t_train\.npy is a symlink loop .*point it at the real file$"),
    "a dangling symlink for a file": (
        lambda r: replaced_by(reward(r, "test"), lambda p: p.symlink_to(r / "gone.npy")), [],
        r"reward_custom_custom_t_test\.npy is a dangling symlink: its target .*gone\.npy does not exist"),
    "a directory for a file": (lambda r: replaced_by(embd(r, "test"), Path.mkdir), [],
                               r"embd_custom_custom_t_test\.npy is a directory where a data file should be"),
    "task not set": (lambda r: None, ["dataset.task=null"], r"dataset\.task is not set; pass dataset\.task="),
    "model.dim not the files' dim": (lambda r: None, ["model.dim=99"],
                                     r"model\.dim=99 but dataset 'embeddings' has embeddings of dim 8"),
}


def test_valid_data_files_pass(make_config, data_root):
    spec = RunSpec.from_config(data_config(make_config, data_root))
    check_against_data(spec, instantiate_checked(spec.dataset, "dataset"))
    assert spec.rounds == 1


@pytest.mark.parametrize(("corrupt", "overrides", "match"), DATA_CASES.values(), ids=DATA_CASES.keys())
def test_data_file_mistakes_name_the_file_and_the_fix(make_config, data_root, run_dir, corrupt, overrides, match):
    corrupt(data_root)
    with pytest.raises(UserError, match=match) as caught:
        run_experiment(data_config(make_config, data_root, *overrides), run_dir)
    assert "\n" not in str(caught.value)
    assert not run_dir.exists()


ROOT_CASES = {
    "a symlink loop": (lambda link, data: link.symlink_to(link), r"data is a symlink loop"),
    "a dangling symlink": (lambda link, data: link.symlink_to(data / "gone"),
                           r"data is a dangling symlink: its target .*gone does not exist; point it at the real"),
    "a file": (lambda link, data: link.write_text(""), r"data is a file where a folder should be"),
    "a link to a file": (lambda link, data: link.symlink_to(embd(data, "train")), r"data is a file where a folder"),
}


@pytest.mark.parametrize(("make", "match"), ROOT_CASES.values(), ids=ROOT_CASES.keys())
def test_a_data_folder_that_is_a_broken_link_or_a_file_is_named(make_config, data_root, tmp_path, make, match):
    root = tmp_path / "elsewhere" / "data"
    root.parent.mkdir()
    make(root, data_root)
    with pytest.raises(UserError, match=rf"^dataset\.root={re.escape(str(root))}: .*{match}") as caught:
        run_experiment(data_config(make_config, root), tmp_path / "run")
    assert "\n" not in str(caught.value)


def test_a_file_under_a_dangling_link_names_the_link(make_config, data_root, tmp_path):
    (tmp_path / "link").symlink_to(tmp_path / "gone")
    with pytest.raises(UserError, match=r"link is a dangling symlink"):
        run_experiment(data_config(make_config, tmp_path / "link" / "data"), tmp_path / "run")


# --- the real command line: exit code, one line on stderr, no traceback, no empty run folder ---

CLI_CASES = {
    "config error": (["budget=0"], 2, r"^arm-bench: error: budget=0 must be positive$", False),
    "unknown option": (["selector=nope"], 1, r"^In 'config': Could not find 'selector/nope'$", False),
    "typo'd key": (["reward_model.widht=3"], 1, r"^Could not override 'reward_model\.widht'\.$", False),
    "divergence": (["reward_model.lr=1e30"], 2, r"^arm-bench: error: round 0: reward model training diverged", True),
    "misspelt sweep value": (["hydra.mode=MULTIRUN", "selector=dopt,dopp"], 2,
                             r"^arm-bench: error: selector=dopp \(in the sweep's selector=dopt,dopp\) is not a "
                             r"selector option; did you mean dopt\? the options: badge, .*, xtx$", False),
}


@pytest.mark.parametrize(("overrides", "code", "first_line", "keeps_folder"), CLI_CASES.values(), ids=CLI_CASES.keys())
def test_cli_reports_bad_input_in_one_line(tmp_path, overrides, code, first_line, keeps_folder):
    env = {key: value for key, value in os.environ.items() if key != "HYDRA_FULL_ERROR"}
    command = [sys.executable, "-m", "benchmark", *TINY, f"output_root={tmp_path}", *overrides]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == code, done.stderr
    lines = done.stderr.strip().splitlines()
    assert re.search(first_line, lines[0]), done.stderr
    assert "Traceback" not in done.stderr
    if code == 2:
        assert len(lines) == 1, done.stderr
    assert not (tmp_path / "multirun").exists()  # a sweep stopped before any job ran, or no sweep
    folders = list((tmp_path / "runs").glob("*")) if (tmp_path / "runs").exists() else []
    assert len(folders) == int(keeps_folder)
    if keeps_folder:
        assert json.loads((folders[0] / "summary.json").read_text())["status"] == "failed"
