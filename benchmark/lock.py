"""One writer per run folder: an OS-level lock held for the whole life of a run.

Two processes writing one folder (a rerun while the first still runs, two sweeps sharing an
``output_root``) would interleave rounds and corrupt the resume state. The lock is ``flock`` on
``<folder>/.lock``: the kernel drops it when its holder exits in any way, SIGKILL included, so a killed
run never leaves a stale lock. Only where the filesystem has no ``flock`` (some network mounts) does it
fall back to a marker file, which is advisory and outlives a killed holder; one warning says so.

While held, ``<folder>/.lock.holder`` (JSON: pid, host, started, and the process's start time where /proc
has it) says who holds it, so the error a second run gets names the process to wait for. The ``.lock`` file
itself stays after release: deleting it would let a waiter lock an inode that a newcomer no longer sees.

One writer holds even without the lock file. A clean-up that removes or replaces ``.lock`` while a run holds it
lets a newcomer lock a fresh file, so the newcomer also reads ``.lock.holder``: a live process on this host that is
not itself means the folder is taken (refused, or waited for). And the holder checks, at each round's end, that
the holder file still names it (:func:`check_held`): if another process has taken the folder, it stops without
writing anything more (:class:`LockLost`); if only the file is gone, it writes it again.
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


#: The lock this process holds per run folder (resolved), so the run can check it still holds its folder.
_held: dict[Path, "RunLock"] = {}


class RunLocked(UserError):
    """Another process holds the run folder."""


class LockLost(UserError):
    """Another process took the run folder while this one held it (its lock file was removed or replaced)."""


def process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc), telling a reused pid from the original."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def alive(info: dict) -> bool:
    """Whether the process a holder record names is running on this host (unknown hosts count as not running)."""
    if info.get("host") != socket.gethostname() or not isinstance(info.get("pid"), int):
        return False
    try:
        os.kill(info["pid"], 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    recorded = info.get("process_start")
    return recorded is None or process_start(info["pid"]) in (None, recorded)


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
            self._wait_for_a_holder_without_lock_file(wait)
            self._write_holder()
        except BaseException:  # e.g. a full disk: never keep a lock nobody will release
            self.release()
            raise
        _held[self.folder.resolve()] = self

    def _record(self) -> dict | None:
        try:
            info = json.loads(self.holder_path.read_text())
        except (OSError, ValueError):
            return None
        return info if isinstance(info, dict) else None

    def _mine(self, info: dict | None) -> bool:
        return info is not None and info.get("pid") == os.getpid() and info.get("host") == socket.gethostname()

    def _wait_for_a_holder_without_lock_file(self, wait: bool) -> None:
        """The flock is ours, but a live process the holder file names may hold the folder through a removed or
        replaced lock file: refuse, or wait until it ends."""
        while (info := self._record()) is not None and not self._mine(info) and alive(info):
            if not wait:
                raise RunLocked(f"{self.folder} is in use by another run ({self.holder()}), although its lock file "
                                "was removed or replaced; wait for it to end or stop it, or write this run elsewhere "
                                "(output_root=...)")
            time.sleep(0.5)

    def _write_holder(self) -> None:
        atomic_write_json(self.holder_path, {"pid": os.getpid(), "host": socket.gethostname(),
                                             "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                             "process_start": process_start(os.getpid())})

    def check(self) -> None:
        """Raise :class:`LockLost` if another process now holds the folder; rewrite a holder file that is gone."""
        info = self._record()
        if info is None:
            self._write_holder()
        elif not self._mine(info):
            raise LockLost(f"{self.folder} was taken by another run ({self.holder()}) after its lock file was removed "
                           "or replaced; this run stops without writing more, so that one process writes the folder")

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
        _held.pop(self.folder.resolve(), None)
        try:
            if self._mine(self._record()):  # a process that took the folder keeps its record
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


def check_held(folder: Path) -> None:
    """If this process holds ``folder``'s lock, check it still holds the folder (:meth:`RunLock.check`)."""
    held = _held.get(Path(folder).resolve())
    if held is not None:
        held.check()
