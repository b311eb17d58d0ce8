"""A finished run whose inputs changed since it ran is returned, never silently.

Rerunning a finished run skips it (its results stand until ``overwrite=true``), but when its code or data changed
since, the results no longer describe what the command would compute today. The rerun says so in one line that
names the changes and ``overwrite=true``, and records them in the run's ``summary.json`` as
``inputs_changed_since``, which the sweep's summary lists and the plots and tables mark (†), as they mark runs
resumed onto changed inputs on purpose. A later rerun that finds the inputs as they were removes the mark.
"""

import logging
from typing import Any

from benchmark.outputs import RunFolder, atomic_write_json

log = logging.getLogger(__name__)

#: The ``summary.json`` key: what changed between the run's inputs and those of the last rerun that skipped it.
KEY = "inputs_changed_since"


def returned_finished(folder: RunFolder, summary: dict[str, Any], changes: list[str]) -> dict[str, Any]:
    """``summary`` of the finished run in ``folder``, with ``changes`` recorded (and said) or an old mark cleared."""
    if changes:
        log.warning("%s holds this run finished on other inputs (%s); returning its old results: pass overwrite=true "
                    "to redo it", folder.root, "; ".join(changes))
    else:
        log.info("%s already holds this finished run; skipping (overwrite=true redoes it)", folder.root)
    if summary.get(KEY) != (changes or None):
        summary = {key: value for key, value in summary.items() if key != KEY}
        if changes:
            summary[KEY] = changes
        try:
            atomic_write_json(folder.summary, summary)
        except OSError as err:  # a read-only folder: the line above still says it
            log.warning("could not record the changed inputs in %s (%s)", folder.summary, err.strerror)
    return summary
