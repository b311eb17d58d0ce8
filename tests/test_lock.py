"""One writer per run folder: a second process is refused (or waits), and a killed holder frees it at once."""

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from errno import ENOSYS
from pathlib import Path

import pytest

from benchmark import lock as lock_module
from benchmark.errors import UserError
from benchmark.lock import HOLDER_NAME, LOCK_NAME, RunLock, RunLocked

#: A process that takes the lock, says so, and holds it until killed or told to let go.
HOLDER = """
import sys
from pathlib import Path
from benchmark.lock import RunLock
lock = RunLock(Path(sys.argv[1]))
lock.acquire(wait=False)
print("locked", flush=True)
sys.stdin.readline()
lock.release()
"""


def start_holder(folder: Path) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "locked"
    return process


def test_second_process_is_refused_naming_the_holder_and_a_sigkill_frees_the_folder(tmp_path):
    folder = tmp_path / "run"
    holder = start_holder(folder)
    try:
        with pytest.raises(RunLocked, match=rf"^{folder} is in use by another run \(pid {holder.pid} on "
                                            rf"{socket.gethostname()}, since .*\); wait for it") as caught:
            RunLock(folder).acquire(wait=False)
        assert isinstance(caught.value, UserError) and "\n" not in str(caught.value)
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    started = time.monotonic()
    with RunLock(folder) as ours:
        assert time.monotonic() - started < 1, "a killed holder must not leave a stale lock"
        assert json.loads((folder / HOLDER_NAME).read_text())["pid"] == os.getpid()
        assert ours.held
    assert not (folder / HOLDER_NAME).exists() and (folder / LOCK_NAME).exists()


def test_wait_blocks_until_the_holder_lets_go(tmp_path):
    folder = tmp_path / "run"
    holder = start_holder(folder)
    assert holder.stdin is not None
    let_go = threading.Timer(0.5, lambda: (holder.stdin.write("\n"), holder.stdin.flush()))
    let_go.start()
    started = time.monotonic()
    lock = RunLock(folder)
    lock.acquire(wait=True)
    waited = time.monotonic() - started
    holder.wait(timeout=10)
    assert 0.4 < waited < 10 and lock.held
    assert json.loads((folder / HOLDER_NAME).read_text())["pid"] == os.getpid()
    lock.release()
    assert not lock.held and not (folder / HOLDER_NAME).exists()


def test_two_locks_in_one_process_exclude_each_other(tmp_path):
    first, second = RunLock(tmp_path), RunLock(tmp_path)
    first.acquire()
    with pytest.raises(RunLocked, match=rf"pid {os.getpid()} on "):
        second.acquire()
    first.release()
    second.acquire()
    second.release()


def test_lock_file_honours_the_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        with RunLock(tmp_path / "run"):
            pass
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "run" / LOCK_NAME).stat().st_mode) == 0o640


def test_filesystem_without_flock_falls_back_to_an_advisory_lock_with_one_warning(tmp_path, monkeypatch, caplog):
    class NoFlock:
        def __init__(self, path: Path):
            pass

        def acquire(self, blocking: bool = True) -> None:
            raise OSError(ENOSYS, "Function not implemented")

    monkeypatch.setattr(lock_module, "native_lock", NoFlock)
    monkeypatch.setattr(lock_module, "_warned_advisory", False)
    first, second = RunLock(tmp_path / "a"), RunLock(tmp_path / "b")
    first.acquire()
    second.acquire()
    with pytest.raises(RunLocked):
        RunLock(tmp_path / "a").acquire()
    first.release()
    second.release()
    warnings = [r for r in caplog.records if "advisory" in r.getMessage()]
    assert len(warnings) == 1
