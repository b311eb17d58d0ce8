"""Result integrity with real processes and signals: one writer per folder, SIGTERM as a clean interruption,
resume only onto the same inputs, and a failed start that deletes nothing it did not create."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmark import provenance
from benchmark.errors import UserError
from benchmark.runner import run_experiment
from tests.conftest import TINY, compose_config

#: Long enough (a few seconds) that a second process can meet the first one's lock.
SLOW = ("budget=200", "reward_model.steps=200")


def arm_bench(*args: str, cwd: Path) -> list[str]:
    flags = [a for a in args if a.startswith("-")]
    return [sys.executable, "-m", "benchmark", *flags, *TINY, *(a for a in args if not a.startswith("-"))]


def wait_for(predicate, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def metric_lines(run_dir: Path) -> int:
    path = run_dir / "metrics.jsonl"
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_second_writer_is_refused_at_once_naming_the_holder(tmp_path: Path):
    run_dir = tmp_path / "x"
    long_run = ("budget=2000", "reward_model.steps=200")  # minutes; killed once the second process is answered
    first = subprocess.Popen(arm_bench(*long_run, f"hydra.run.dir={run_dir}", cwd=tmp_path), cwd=tmp_path,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: (run_dir / ".lock.holder").exists() or first.poll() is not None)
        second = subprocess.run(arm_bench(*long_run, f"hydra.run.dir={run_dir}", "selector=random", cwd=tmp_path),
                                cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stderr
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and f"pid {first.pid}" in lines[0] and str(run_dir) in lines[0], second.stderr
    finally:
        first.kill()
        first.wait()


def test_jobs_of_one_sweep_that_share_a_folder_take_turns(tmp_path: Path):
    """torch_threads does not name the folder, so both jobs are one run: the second waits, then skips it."""
    done = subprocess.run(arm_bench("-m", "torch_threads=1,2", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                                    cwd=tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    (run_dir,) = [p.parent for p in (tmp_path / "outputs" / "multirun").glob("*/*/summary.json")]
    assert [json.loads(line)["round"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()] == [0, 1, 2]
    assert "already holds this finished run" in done.stdout + done.stderr


def test_sigterm_interrupts_cleanly_and_a_rerun_continues(tmp_path: Path):
    command = arm_bench(*SLOW, "output_root=out", cwd=tmp_path)
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    runs = tmp_path / "out" / "runs"
    wait_for(lambda: any(metric_lines(p) >= 2 for p in runs.glob("*")) if runs.exists() else False)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143 and "Traceback" not in stderr, stderr
    (run_dir,) = runs.glob("*")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["rounds_completed"] >= 1
    assert not (run_dir / ".lock.holder").exists()
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "resuming" in done.stdout + done.stderr
    reference = tmp_path / "reference"
    run_experiment(compose_config(*SLOW), reference)
    assert (run_dir / "metrics.jsonl").read_bytes() == (reference / "metrics.jsonl").read_bytes()
    assert not (run_dir / "checkpoint.pt").exists()


def test_a_failed_start_keeps_a_folder_that_existed_and_everything_in_it(tmp_path: Path):
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "notes.log").write_text("x")
    done = subprocess.run(arm_bench(f"hydra.run.dir={folder}", "budget=0", cwd=tmp_path), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert sorted(p.name for p in folder.iterdir()) == ["notes.log"]
    assert (folder / "notes.log").read_text() == "x"


def interrupted_run(run_dir: Path, monkeypatch: pytest.MonkeyPatch, *overrides: str) -> None:
    """A run stopped after round 0 (as by a crash), leaving a checkpoint to resume from."""
    from benchmark import loop

    train = loop.train_bradley_terry

    def crash_in_round_1(model, embeddings, first, *args, **kwargs):
        if len(first) > 20:
            raise RuntimeError("crash")
        return train(model, embeddings, first, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(loop, "train_bradley_terry", crash_in_round_1)
        with pytest.raises(RuntimeError, match="crash"):
            run_experiment(compose_config(*overrides), run_dir)


def test_resume_onto_changed_data_is_refused_unless_allowed(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("ARM_BENCH_CACHE", str(tmp_path / "cache"))
    run_dir = tmp_path / "run"
    interrupted_run(run_dir, monkeypatch)
    (data_file,) = [p for p in (tmp_path / "cache").rglob("reward_*_train.npy")]
    os.chmod(data_file, 0o644)
    raw = bytearray(data_file.read_bytes())
    raw[-1] ^= 1
    data_file.write_bytes(bytes(raw))
    with pytest.raises(UserError, match=rf"started on other inputs \(data file {data_file.name} changed\); pass "
                                        r"overwrite=true .* or allow_changed_inputs=true"):
        run_experiment(compose_config(), run_dir)
    summary = run_experiment(compose_config("allow_changed_inputs=true"), run_dir)
    assert summary["status"] == "finished" and summary["allow_changed_inputs"] is True
    assert summary["changed_inputs"] == [f"data file {data_file.name} changed"]


def test_resume_onto_changed_source_is_refused_and_unchanged_inputs_resume(tmp_path: Path, monkeypatch):
    run_dir = tmp_path / "run"
    interrupted_run(run_dir, monkeypatch)
    with monkeypatch.context() as patch:
        patch.setattr(provenance, "source_hash", lambda *digests: "edited")
        with pytest.raises(UserError, match=r"package source changed"):
            run_experiment(compose_config(), run_dir)
    summary = run_experiment(compose_config(), run_dir)
    assert summary["status"] == "finished" and summary["allow_changed_inputs"] is False
    assert summary["resumed_after_round"] == 0


def test_a_finished_run_never_keeps_its_checkpoint(tmp_path: Path):
    """Killed between writing the summary and removing the checkpoint: the rerun skips the run and removes it."""
    run_dir = tmp_path / "run"
    finished = run_experiment(compose_config(), run_dir)
    (run_dir / "checkpoint.pt").write_bytes(b"left by a kill")
    assert run_experiment(compose_config(), run_dir) == finished
    assert not (run_dir / "checkpoint.pt").exists()


def test_an_unusable_output_root_is_one_line(tmp_path: Path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    for sweep in ([], ["-m", "seed=0,1"]):
        done = subprocess.run(arm_bench(*sweep, f"output_root={blocker}", cwd=tmp_path), cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip().splitlines() == [done.stderr.strip()]
        assert "cannot create the output folder" in done.stderr and "set output_root" in done.stderr


def test_a_finished_run_on_changed_inputs_is_returned_with_a_warning_and_marked(tmp_path: Path, monkeypatch, caplog):
    run_dir = tmp_path / "run"
    finished = run_experiment(compose_config(), run_dir)
    with monkeypatch.context() as patch:
        patch.setattr(provenance, "source_hash", lambda *digests: "edited")
        with caplog.at_level("WARNING"):
            again = run_experiment(compose_config(), run_dir)
    assert again == {**finished, "inputs_changed_since": ["package source changed"]}
    assert json.loads((run_dir / "summary.json").read_text()) == again
    (line,) = [r.getMessage() for r in caplog.records if "other inputs" in r.getMessage()]
    assert "(package source changed)" in line and "pass overwrite=true to redo it" in line
    assert run_experiment(compose_config(), run_dir) == finished, "inputs as they were: the mark goes"


def test_a_run_stopped_before_its_first_round_starts_again_on_new_inputs(tmp_path: Path, monkeypatch):
    from benchmark import loop

    run_dir = tmp_path / "run"
    with monkeypatch.context() as patch:
        patch.setattr(loop, "train_bradley_terry", lambda *args, **kwargs: (_ for _ in ()).throw(RuntimeError("x")))
        with pytest.raises(RuntimeError):
            run_experiment(compose_config(), run_dir)
    monkeypatch.setattr(provenance, "source_hash", lambda *digests: "fixed")
    summary = run_experiment(compose_config(), run_dir)
    assert summary["status"] == "finished" and summary["changed_inputs"] == []
    assert json.loads((run_dir / "inputs.json").read_text())["source"] == "fixed"


def test_a_resumed_library_run_keeps_its_labels(tmp_path: Path, monkeypatch):
    """benchmark.run writes no .hydra/: the labels saved at round 0 name the run when it is resumed."""
    from benchmark.experiment import resumed_config

    run_dir = tmp_path / "run"
    interrupted_run(run_dir, monkeypatch, "selector=random")
    cfg, _ = resumed_config(compose_config(f"resume={run_dir}"), [f"resume={run_dir}"])
    assert run_experiment(cfg, run_dir)["labels"]["selector"] == "random"


def test_a_data_file_that_changes_while_a_run_reads_it_fails_the_run_before_that_round_is_recorded(
        tmp_path: Path, monkeypatch):
    """Overwritten in place with the same bytes, size and mtime even: the inode's ctime says it was written."""
    from benchmark import loop

    monkeypatch.setenv("ARM_BENCH_CACHE", str(tmp_path / "cache"))
    run_dir = tmp_path / "run"
    run_round = loop.ActiveLearning.run_round

    def rewrite_during_round_1(self, round_index):
        result = run_round(self, round_index)
        if round_index == 1:
            (path,) = [p for p in (tmp_path / "cache").rglob("embd_*_train.npy")]
            stat = path.stat()
            os.chmod(path, 0o644)
            path.write_bytes(path.read_bytes())
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        return result

    monkeypatch.setattr(loop.ActiveLearning, "run_round", rewrite_during_round_1)
    with pytest.raises(UserError, match=r"^round 1: data file .*embd_.*_train\.npy changed while this run read it"):
        run_experiment(compose_config(), run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["rounds_completed"] == 1
    assert metric_lines(run_dir) == 1 and not (run_dir / "selections" / "round_001.npz").exists()


def test_one_writer_even_when_the_lock_file_is_removed(tmp_path: Path):
    """A clean-up removes ``.lock`` while a run holds it: a newcomer is refused (the holder file names a live pid);
    once another process has taken the folder, the first run stops at its next round's end, writing nothing more."""
    run_dir = tmp_path / "x"
    long_run = ("budget=2000", "reward_model.steps=200")
    first = subprocess.Popen(arm_bench(*long_run, f"hydra.run.dir={run_dir}", cwd=tmp_path), cwd=tmp_path,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: metric_lines(run_dir) >= 1 or first.poll() is not None)
        (run_dir / ".lock").unlink()
        second = subprocess.run(arm_bench(*long_run, f"hydra.run.dir={run_dir}", cwd=tmp_path), cwd=tmp_path,
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stderr
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and f"pid {first.pid}" in lines[0] and "lock file was removed" in lines[0], lines
        holder = json.loads((run_dir / ".lock.holder").read_text())
        assert holder["pid"] == first.pid, "the refused newcomer leaves the holder's record alone"
        (run_dir / ".lock").unlink()
        (run_dir / ".lock.holder").write_text(json.dumps({**holder, "pid": os.getpid(), "process_start": None}))
        taken_at = metric_lines(run_dir)
        _, stderr = first.communicate(timeout=120)
    finally:
        first.kill()
        first.wait()
    assert first.returncode == 2 and "was taken by another run" in stderr and "Traceback" not in stderr, stderr
    rounds = [json.loads(line)["round"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert rounds == list(range(len(rounds))) and len(rounds) <= taken_at + 1
    assert not (run_dir / "summary.json").exists(), "nothing written after the folder was taken"
    assert json.loads((run_dir / ".lock.holder").read_text())["pid"] == os.getpid()
