"""One writer per run folder: an OS-level lock held for the whole life of a run.

Two processes writing one folder (a rerun while the first still runs, two sweeps sharing an
``output_root``) would interleave rounds and corrupt the resume state. The lock is ``flock`` on
``<folder>/.lock``: the kernel drops it when its holder exits in any way, SIGKILL included, so a killed
run never leaves a stale lock. Only where the filesystem has no ``flock`` (some network mounts) does it
fall back to a marker file, which is advisory and outlives a killed holder; one warning says so.

While held, ``<folder>/.lock.holder`` (JSON: pid, host, started) says who holds it, so the error a
second run gets names the process to wait for. The ``.lock`` file itself stays after release: deleting
it would let a waiter lock an inode that a newcomer no longer sees.
"""

import json
import logging
import os
import socket
import time
from errno import ENOSYS
from pathlib import Path
from types import TracebackType

from filelock import BaseFileLock, SoftFileLock, Timeout, UnixFileLock

from benchmark.errors import UserError
from benchmark.outputs import atomic_write_json

log = logging.getLogger(__name__)
LOCK_NAME = ".lock"
HOLDER_NAME = ".lock.holder"
_warned_advisory = False


class RunLocked(UserError):
    """Another process holds the run folder."""


def native_lock(path: Path) -> BaseFileLock:
    """An ``flock`` lock that fails (OSError ENOSYS) rather than silently falling back to a marker file."""
    return UnixFileLock(path, fallback_to_soft=False)


def advisory_lock(path: Path) -> BaseFileLock:
    """A marker-file lock, for filesystems without ``flock``; warned about once per process."""
    global _warned_advisory
    if not _warned_advisory:
        _warned_advisory = True
        log.warning(
            "the filesystem of %s has no flock; run folders are locked with a marker file, which is advisory: a "
            "killed run leaves %s behind (delete it once no run uses that folder)", path.parent, path.name,
        )
    return SoftFileLock(path)


class RunLock:
    """The exclusive lock of one run folder: ``acquire(wait)``, ``release()``, or ``with RunLock(folder):``."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.holder_path = self.folder / HOLDER_NAME
        self._lock: BaseFileLock | None = None

    @property
    def held(self) -> bool:
        return self._lock is not None and self._lock.is_locked

    def acquire(self, wait: bool = False) -> None:
        """Take the lock (creating the folder if needed); if another process holds it, wait or raise.

        ``wait=False`` raises :class:`RunLocked` naming the holder; ``wait=True`` blocks until it is free (a
        sweep job whose folder another job of the same sweep is writing).
        """
        if self.held:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        lock = native_lock(self.path)
        try:
            taken = self._try(lock)
        except (OSError, NotImplementedError) as err:
            if isinstance(err, OSError) and err.errno != ENOSYS:
                raise
            lock = advisory_lock(self.path)
            taken = self._try(lock)
        if not taken:
            if not wait:
                raise RunLocked(
                    f"{self.folder} is in use by another run ({self.holder()}); wait for it to end or stop it, "
                    "or write this run elsewhere (output_root=...)"
                )
            log.info("waiting for %s, in use by another run (%s)", self.folder, self.holder())
            lock.acquire()
        self._lock = lock
        try:
            atomic_write_json(self.holder_path, {"pid": os.getpid(), "host": socket.gethostname(),
                                                 "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        except BaseException:  # e.g. a full disk: never keep a lock nobody will release
            self.release()
            raise

    @staticmethod
    def _try(lock: BaseFileLock) -> bool:
        try:
            lock.acquire(blocking=False)
        except Timeout:
            return False
        return True

    def holder(self) -> str:
        """Who holds the lock, from the side file (which the holder writes just after locking)."""
        try:
            info = json.loads(self.holder_path.read_text())
            return f"pid {info['pid']} on {info['host']}, since {info['started']}"
        except (OSError, ValueError, KeyError, TypeError):
            return "holder unknown: it is starting, or wrote no .lock.holder"

    def release(self) -> None:
        """Drop the lock; the side file goes first, so it never names a process that no longer holds it."""
        if not self.held:
            return
        assert self._lock is not None
        try:
            self.holder_path.unlink(missing_ok=True)
        finally:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()
