"""A sweep survives a bad job: the failure is recorded, the other jobs run, the sweep exits 1 listing it, and a
rerun retries only what did not finish. Also: every ad hoc sweep gets its own folder, found again on a rerun."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmark.sweep import sweep_folder_name
from tests.conftest import TINY

#: The first job diverges (its training loss is not finite), the second is fine.
GRID = ["-m", "+sweep=smoke", "selector=random", "seed=0", "reward_model.lr=1e30,0.001"]


def arm_bench(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ARM_BENCH_CACHE": str(cwd / "cache")}
    return subprocess.run([sys.executable, "-m", "benchmark", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("launcher", ["basic", "joblib"])
def test_a_failing_job_is_recorded_and_the_sweep_goes_on(tmp_path: Path, launcher: str):
    extra = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"] if launcher == "joblib" else []
    done = arm_bench(*GRID, "logger=none", *extra, cwd=tmp_path)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "1 of 2 jobs failed" in done.stderr and "diverged" in done.stderr
    sweep = tmp_path / "outputs" / "multirun" / "smoke"
    summaries = {p.parent.name: json.loads(p.read_text()) for p in sweep.glob("*/summary.json")}
    assert {s["status"] for s in summaries.values()} == {"finished", "failed"}
    failed = next(s for s in summaries.values() if s["status"] == "failed")
    assert "diverged" in failed["reason"] and "\n" not in failed["reason"]
    record = json.loads((sweep / "sweep_summary.json").read_text())
    assert (record["jobs"], record["finished"], record["expected_jobs"]) == (2, 1, 2)
    failed_runs = [name for name, s in summaries.items() if s["status"] == "failed"]
    assert [job["run"] for job in record["failed"]] == failed_runs
    if launcher == "basic":
        assert "job 2/2" in done.stderr + done.stdout
        again = arm_bench(*GRID, "logger=none", cwd=tmp_path)
        assert again.returncode == 1
        assert again.stderr.count("already holds this finished run") + again.stdout.count(
            "already holds this finished run") == 1
        first_log, again_log = done.stderr + done.stdout, again.stderr + again.stdout
        assert re.search(r"job \d/2: finished in \d+s; sweep \d+s elapsed", first_log)
        assert "job 2/2: skipped" not in first_log and "skipped (already finished)" in again_log
        assert json.loads((sweep / "sweep_summary.json").read_text())["skipped"] == 1
        lines = [json.loads(line) for line in (sweep / "jobs.jsonl").read_text().splitlines()]
        assert sorted(line["status"] for line in lines) == ["failed", "failed", "finished", "skipped"]
        assert all(0 <= line["seconds"] < 300 for line in lines)


def test_ad_hoc_sweeps_get_their_own_folder_found_again_on_a_rerun():
    first = sweep_folder_name(None, ["seed=0,1", "selector=random,dopt", "torch_threads=1"])
    assert first.startswith("adhoc-seed+selector-")
    assert first == sweep_folder_name(None, ["selector=random,dopt", "seed=0,1", "logger=none"])
    assert first != sweep_folder_name(None, ["seed=0,1,2", "selector=random,dopt"])
    assert sweep_folder_name("smoke", ["seed=0,1"]) == "smoke"


def test_ad_hoc_sweep_runs_into_its_named_folder(tmp_path: Path):
    done = arm_bench("-m", *TINY, "budget=20", "seed=0,1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    folders = [p.name for p in (tmp_path / "outputs" / "multirun").iterdir()]
    assert folders == [sweep_folder_name(None, [*TINY, "budget=20", "seed=0,1"])]
    assert len(list((tmp_path / "outputs" / "multirun" / folders[0]).glob("*/summary.json"))) == 2
