"""hydra/launcher=ray against a running cluster: a Ray head on this machine, started and stopped here.

The sweep is launched from a folder other than the one the head was started in, with the cache given only in the
launching shell's environment, so the test shows that workers write into the launching folder's sweep folder and
see its ARM_BENCH_* variables. One job diverges: it is recorded, the other finishes, the sweep exits 1; the rerun
skips the finished job and retries only the failed one. Needs the [ray] extra (`make` installs it).
"""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("hydra_plugins.hydra_ray_launcher")

RAY = Path(sys.executable).with_name("ray")
GRID = ["-m", "+sweep=smoke", "selector=random", "seed=0", "reward_model.lr=1e30,0.001", "logger=none",
        "hydra/launcher=ray"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def head(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A one-node cluster (2 CPUs, token auth with a token of its own); yields its address and the client env."""
    port, folder = free_port(), tmp_path / "cluster"
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARM_BENCH_")}
    env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(16), RAY_USAGE_STATS_ENABLED="0")
    process = subprocess.Popen(
        [str(RAY), "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2",
         "--include-dashboard=false", "--disable-usage-stats", "--block"],
        cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        deadline = time.time() + 120
        while not listening(port):  # the head's control store is up: drivers can connect
            assert process.poll() is None and time.time() < deadline, "the Ray head did not start"
            time.sleep(0.5)
        yield f"127.0.0.1:{port}", env
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the head and every process it started share its new session
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a graceful stop takes ~30 s on 2 busy cores; the cluster is throwaway
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        assert (folder / "outputs").exists() is False  # nothing was written where the cluster runs


def arm_bench(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "benchmark", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_a_sweep_on_a_running_cluster_isolates_failures_and_resumes(head, tmp_path: Path):
    address, cluster_env = head
    work, cache = tmp_path / "work", tmp_path / "cache"
    work.mkdir()
    env = {**cluster_env, "ARM_BENCH_CACHE": str(cache)}
    args = [*GRID, f"hydra.launcher.ray.init.address={address}"]
    done = arm_bench(work, env, *args)
    log = done.stdout + done.stderr
    assert done.returncode == 1, log[-3000:]
    assert "1 of 2 jobs failed" in done.stderr and "diverged" in done.stderr
    assert "is validated against ConfigStore schema" not in log
    sweep = work / "outputs" / "multirun" / "smoke"
    summaries = {p.parent.name: json.loads(p.read_text())["status"] for p in sweep.glob("*/summary.json")}
    assert sorted(summaries.values()) == ["failed", "finished"]
    assert cache.is_dir() and any(cache.iterdir())  # the workers used the launching shell's ARM_BENCH_CACHE

    again = arm_bench(work, env, *args)
    assert again.returncode == 1, (again.stdout + again.stderr)[-3000:]
    record = json.loads((sweep / "sweep_summary.json").read_text())
    assert (record["jobs"], record["skipped"], len(record["failed"])) == (2, 1, 1)
