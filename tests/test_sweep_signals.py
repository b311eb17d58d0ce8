"""Sweeps stop cleanly: SIGTERM or SIGINT to a sweep's parent ends every job (each running job records
``interrupted``, ``sweep_summary.json`` lists them, no process of the sweep is left), a worker whose parent was
killed stops by itself, and a full disk is one line per job while the sweep goes on (real processes and signals)."""

import errno
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from benchmark import sweep as sweep_module
from benchmark.experiment import run_logged_sweep_job
from tests.conftest import TINY, compose_config

#: Two jobs of about a hundred short rounds each: long enough to be caught running.
LONG = ("budget=2000", "reward_model.steps=100")


def processes_marked(mark: str) -> list[int]:
    """Live processes whose environment holds ``mark`` (every process a sweep starts inherits it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if mark.encode() in (entry / "environ").read_bytes():
                    state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                    if state != "Z":
                        found.append(int(entry.name))
            except OSError:
                continue
    return found


def start_sweep(tmp_path: Path, *launcher: str) -> tuple[subprocess.Popen, str]:
    mark = f"ARM_BENCH_TEST_MARK={uuid.uuid4().hex}"
    command = [sys.executable, "-m", "benchmark", "-m", "seed=0,1", *TINY, *LONG, *launcher]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, mark.split("=")[0]: mark.split("=")[1]})
    return process, mark


def wait_for_rounds(tmp_path: Path, process: subprocess.Popen, rounds: int = 2) -> None:
    deadline = time.monotonic() + 300  # a loaded machine starts processes slowly
    metrics = tmp_path.glob
    while not any(len(p.read_text().splitlines()) >= rounds for p in metrics("outputs/multirun/*/*/metrics.jsonl")):
        assert process.poll() is None and time.monotonic() < deadline, "the sweep did not get going"
        time.sleep(0.1)


def sweep_folder(tmp_path: Path) -> Path:
    (folder,) = (tmp_path / "outputs" / "multirun").iterdir()
    return folder


@pytest.mark.parametrize(("launcher", "signum"), [
    ((), signal.SIGINT),
    (("hydra/launcher=joblib", "hydra.launcher.n_jobs=2"), signal.SIGTERM),
    (("hydra/launcher=submitit_local",), signal.SIGTERM),
], ids=["basic-SIGINT", "joblib-SIGTERM", "submitit_local-SIGTERM"])
def test_a_signal_to_the_parent_ends_every_job_cleanly(tmp_path: Path, launcher, signum):
    process, mark = start_sweep(tmp_path, *launcher)
    try:
        wait_for_rounds(tmp_path, process)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == 128 + signum and "Traceback" not in stderr, stderr[-3000:]
    assert stderr.strip().splitlines()[-1].startswith(f"arm-bench: sweep stopped by {signal.Signals(signum).name}")
    deadline = time.monotonic() + 15
    while processes_marked(mark) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_marked(mark) == [], "no process of the sweep is left"
    folder = sweep_folder(tmp_path)
    summary = json.loads((folder / "sweep_summary.json").read_text())
    stopped = {job["run"] for job in summary["failed"] if job["status"] == "interrupted"}
    # a worker killed before it recorded itself (by the parent after 10 s, or by joblib's pool once another worker
    # exited) is listed by the parent
    killed = {job["run"] for job in summary["failed"] if "killed" in job["reason"]}
    assert stopped and summary["finished"] == 0
    started = {p.parent.name for p in folder.glob("*/metrics.jsonl")}
    # A job the launcher had started may be stopped before its first round (both jobs start at once; on a slow
    # machine one may not have written a round yet): it is listed as interrupted too, and a summary it wrote says so.
    assert started <= stopped, f"every job that ran is listed as interrupted: {summary}"
    for run in stopped - started:
        early = folder / run / "summary.json"
        assert not early.exists() or json.loads(early.read_text())["status"] == "interrupted"
    for run in started - killed:
        run_summary = json.loads((folder / run / "summary.json").read_text())
        rounds = len((folder / run / "metrics.jsonl").read_text().splitlines())
        # the checkpoint commits a round: a metrics line written just before the signal is dropped on resume
        assert run_summary["status"] == "interrupted" and run_summary["rounds_completed"] in (rounds - 1, rounds)


def test_a_worker_killed_for_not_stopping_in_time_is_listed_as_interrupted(tmp_path: Path, monkeypatch):
    """The parent finds a killed worker's job by the holder file it left; jobs that recorded themselves keep their
    line, and a holder naming a process it did not kill is not its business."""
    monkeypatch.setenv(sweep_module.ID_VARIABLE, "sweep-1")
    for run, pid in (("slow", 101), ("recorded", 102), ("other", 103)):
        (tmp_path / run).mkdir()
        (tmp_path / run / ".lock.holder").write_text(json.dumps({"pid": pid}))
    monkeypatch.setenv(sweep_module.STARTED_VARIABLE, str(time.time() - 60))
    sweep_module.record_job(tmp_path / "recorded", "interrupted", "interrupted (signal SIGTERM)", time.time())
    # a run that recorded itself and released its lock, whose worker was killed before the sweep's line
    (tmp_path / "released").mkdir()
    (tmp_path / "released" / "summary.json").write_text(json.dumps({"status": "interrupted"}))
    (tmp_path / "done").mkdir()
    (tmp_path / "done" / "summary.json").write_text(json.dumps({"status": "finished"}))
    sweep_module.record_killed_jobs(tmp_path, {101, 102})
    jobs, failed, _ = sweep_module.write_summary(tmp_path)
    assert failed == ["recorded", "released", "slow"] and "killed" in jobs["slow"]["reason"]
    assert "killed" in jobs["released"]["reason"] and "done" not in jobs and "other" not in jobs
    assert jobs["recorded"]["reason"] == "interrupted (signal SIGTERM)"


def test_a_worker_whose_parent_was_killed_stops_by_itself(tmp_path: Path):
    process, mark = start_sweep(tmp_path, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    try:
        wait_for_rounds(tmp_path, process)
        process.kill()
        process.wait()
        deadline = time.monotonic() + 30
        while processes_marked(mark) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert processes_marked(mark) == []
    finally:
        for pid in processes_marked(mark):
            os.kill(pid, signal.SIGKILL)
    summaries = [json.loads(p.read_text()) for p in sweep_folder(tmp_path).glob("*/summary.json")]
    assert summaries and all(s["status"] == "interrupted" and "parent process ended" in s["reason"] for s in summaries)


def test_a_full_disk_is_one_line_and_a_rerun_after_freeing_space_finishes(tmp_path: Path, monkeypatch, capsys):
    """The disk fills after round 0: the job fails with ``no space left on <path>``, even its failure record cannot
    be written in full, and the sweep goes on; once space is free the same job finishes from its last round."""
    run_dir = tmp_path / "sweep" / "job"
    fsync = os.fsync
    full = {"on": False}

    def filling(fd: int) -> None:
        if full["on"]:
            raise OSError(errno.ENOSPC, "No space left on device")
        fsync(fd)

    from benchmark import loop

    run_round = loop.ActiveLearning.run_round

    def fill_after_round_0(self, round_index):
        full["on"] = round_index >= 1
        return run_round(self, round_index)

    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", filling)
        patch.setattr(loop.ActiveLearning, "run_round", fill_after_round_0)
        run_logged_sweep_job(compose_config(), run_dir, "sweep")  # returns: the sweep goes on
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = [text for text in err.splitlines() if "failed:" in text]
    assert line == f"arm-bench: job job failed: no space left on {run_dir}; free some space and rerun the same command"
    (job,) = [json.loads(text) for text in (run_dir.parent / sweep_module.JOBS_FILE).read_text().splitlines()]
    assert job["status"] == "failed" and job["reason"].startswith("no space left on")
    run_logged_sweep_job(compose_config(), run_dir, "sweep")
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "finished"
