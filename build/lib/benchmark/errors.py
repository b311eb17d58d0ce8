"""One exception type for mistakes a user can fix, so the entrypoint prints one line, not a traceback."""


class UserError(Exception):
    """A bad config value, data file or size: the message names the key or file and how to fix it."""


class TrainingDiverged(UserError):
    """The reward model's loss became NaN or infinite."""
