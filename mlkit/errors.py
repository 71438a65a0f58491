"""Errors a user can cause and fix: the CLI prints them as one line (exit status 2)."""


class MlkitError(Exception):
    """A user-facing failure that is not a bad argument value (those are ValueError)."""


class DestinationExistsError(MlkitError, FileExistsError):
    """The destination exists and mlkit will not replace it."""


class RunDirectoryBusyError(MlkitError):
    """Another process holds the run directory's lock."""


class RunFinishedError(MlkitError):
    """The run directory holds a finished run and `--overwrite` was not given."""
