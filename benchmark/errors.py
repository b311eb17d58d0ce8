"""One exception type for mistakes a user can fix, so the entrypoint prints one line, not a traceback."""


class UserError(Exception):
    """A bad config value, data file or size: the message names the key or file and how to fix it."""


class Interrupted(KeyboardInterrupt):
    """SIGTERM (a SLURM time limit or pre-emption), or the end of a sweep's parent process, handled like Ctrl-C:
    the run stops as ``interrupted``."""


class TrainingDiverged(UserError):
    """The reward model's loss became NaN or infinite."""
