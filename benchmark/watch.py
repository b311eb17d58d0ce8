"""What a run re-checks at each round's end: that it still holds its folder, and that its data did not change.

A sweep's job stops as ``interrupted`` when the sweep was stopped or its parent process was killed
(:func:`benchmark.sweep.sweep_stopping`).

The folder: a run whose lock file was removed and whose folder another process then took stops without writing
more (:func:`benchmark.lock.check_held`).

The data: the checksums in ``inputs.json`` say what the run started on, but embedding files are memory-mapped and read
round by round, so a file overwritten in place (a rebuild, an ``rsync`` into the same folder) would give the later
rounds other data. :class:`RunWatch` notes each file's identity when the run starts (:func:`benchmark.cache.identity`:
size, mtime, inode and ctime, what a copy cannot fake cheaply), and :meth:`RunWatch.check` stats the files again
at each round's end, before that round is committed, and before the summary: a change is one line naming the file,
and the run is ``failed``.
"""

from collections.abc import Iterable
from pathlib import Path

from benchmark.cache import identity
from benchmark.errors import Interrupted, UserError
from benchmark.lock import check_held
from benchmark.sweep import sweep_stopping


class RunWatch:
    def __init__(self, files: Iterable[Path], folder: Path):
        self.folder = folder
        self.seen = {Path(path): identity(Path(path)) for path in files}

    def check(self) -> None:
        """Raise a :class:`UserError` if the folder was taken, or naming the first data file that is gone or changed
        since the run started."""
        check_held(self.folder)
        if reason := sweep_stopping(self.folder):
            raise Interrupted(reason)
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
