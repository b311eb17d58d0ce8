"""A finished run in a read-only folder (an archive, a colleague's results) is skipped like any finished run: the
command says so and exits 0, and neither Hydra nor the run writes anything there; a run that would write is one
line, exit 2.

A real process, since Hydra's own writes (``.hydra/``, the job's log file) happen only under the command line.
Root ignores permissions, so as root the folder is made read-only by a read-only bind mount in a user namespace.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import benchmark
from tests.conftest import TINY

#: Runs ``"$@"`` with the folder ``$1`` mounted read-only, in a mount namespace of its own.
READ_ONLY_MOUNT = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'


def run_read_only(folder: Path, command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """``command`` with ``folder`` read-only to it: by permissions, or as root by a read-only mount."""
    env = {key: value for key, value in os.environ.items() if key != "HYDRA_FULL_ERROR"}
    if os.geteuid() != 0:
        return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    if shutil.which("unshare") is None:
        pytest.skip("root without unshare: no way to make a folder read-only")
    wrapped = ["unshare", "-rm", "sh", "-c", READ_ONLY_MOUNT, "sh", str(folder), *command]
    return subprocess.run(wrapped, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def listing(folder: Path) -> dict[str, int]:
    return {str(path.relative_to(folder)): path.stat().st_mtime_ns for path in folder.rglob("*")}


@pytest.fixture
def read_only_finished_run(tmp_path: Path):
    """A finished run's folder, read-only for the test (restored afterwards so it can be removed)."""
    folder = benchmark.run([*TINY, f"output_root={tmp_path}"]).folder
    if os.geteuid() != 0:
        for path in [folder, *folder.rglob("*")]:
            path.chmod(path.stat().st_mode & ~0o222)
    yield folder
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)


def test_a_finished_run_in_a_read_only_folder_is_skipped_and_nothing_is_written(read_only_finished_run, tmp_path):
    folder = read_only_finished_run
    before = listing(folder)
    command = [sys.executable, "-m", "benchmark", *TINY, f"output_root={tmp_path}"]
    done = run_read_only(folder, command, tmp_path)
    if done.returncode != 0 and "unshare" in done.stderr:
        pytest.skip(f"no user namespace here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    assert "already holds this finished run; skipping" in done.stdout, done.stdout
    assert "Traceback" not in done.stderr + done.stdout and "WARNING" not in done.stdout, done.stderr + done.stdout
    assert listing(folder) == before  # no .hydra/, no log file, nothing rewritten

    again = run_read_only(folder, [*command, "overwrite=true"], tmp_path)
    assert again.returncode == 2, again.stderr
    assert again.stderr.strip() == (f"arm-bench: error: {folder} is read-only, and overwrite=true would write into it; "
                                    "make the folder writable, or set output_root to another folder")
    assert listing(folder) == before
