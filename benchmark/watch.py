"""Data is checked as read: a data file that changes while a run reads it ends the run, before a round is recorded.

The checksums in ``inputs.json`` say what the run started on, but embedding files are memory-mapped and read
round by round, so a file overwritten in place (a rebuild, an ``rsync`` into the same folder) would give the later
rounds other data. :class:`DataWatch` notes each file's identity when the run starts (:func:`benchmark.cache.identity`:
size, mtime, inode and ctime, what a copy cannot fake cheaply), and :meth:`DataWatch.check` stats the files again
at each round's end, before that round is committed, and before the summary: a change is one line naming the file,
and the run is ``failed``.
"""

from collections.abc import Iterable
from pathlib import Path

from benchmark.cache import identity
from benchmark.errors import UserError


class DataWatch:
    def __init__(self, files: Iterable[Path]):
        self.seen = {Path(path): identity(Path(path)) for path in files}

    def check(self) -> None:
        """Raise a :class:`UserError` naming the first data file that is gone or changed since the run started."""
        for path, seen in self.seen.items():
            try:
                now = identity(path)
            except OSError as err:
                raise UserError(f"data file {path} disappeared while this run read it ({err.strerror}); the run "
                                "stops as failed: restore the file and rerun (overwrite=true starts it again)") from err
            if now != seen:
                raise UserError(f"data file {path} changed while this run read it; the run stops as failed, recording "
                                "nothing computed on other data: rerun once the file is final (overwrite=true starts "
                                "it again)")
