"""Peak *anonymous* memory of this process, sampled in a background thread.

Pages of memory-mapped data files count in RSS but are file-backed and reclaimable, so RSS of a run
that reads a 4 GB test set says little; ``RssAnon`` (heap, tensors, numpy arrays) is what can run a
machine out of memory. Linux keeps no peak of it, hence the sampling.
"""

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TypeVar

T = TypeVar("T")

STATUS = Path("/proc/self/status")


def status_mb(field: str) -> float:
    """A ``/proc/self/status`` field in MB (NaN where there is no such file, e.g. macOS)."""
    try:
        match = re.search(rf"^{field}:\s+(\d+) kB", STATUS.read_text(), re.MULTILINE)
    except OSError:
        return float("nan")
    return int(match.group(1)) / 1024 if match else float("nan")


class AnonPeak:
    """``with AnonPeak() as peak: ...`` then ``peak.mb``: the highest RssAnon seen inside the block."""

    def __init__(self, interval: float = 0.005):
        self.interval = interval
        self.mb = status_mb("RssAnon")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.mb = max(self.mb, status_mb("RssAnon"))

    def __enter__(self) -> "AnonPeak":
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.mb = max(self.mb, status_mb("RssAnon"))


def timed(action: Callable[[], T], synchronize: Callable[[], None]) -> tuple[T, float, float]:
    """Run ``action``; return its result, wall seconds and peak anonymous MB (``synchronize`` flushes a GPU)."""
    with AnonPeak() as peak:
        start = time.perf_counter()
        result = action()
        synchronize()
        seconds = time.perf_counter() - start
    return result, seconds, peak.mb
