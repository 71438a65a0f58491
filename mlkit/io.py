"""Atomic writes that never destroy what mlkit did not write.

A reader never sees a half-written file or directory, and nothing is replaced
unless mlkit wrote it: an existing directory is replaced only when it carries
mlkit's marker file of the same kind, and never without `replace=True`.
"""

import contextlib
import json
import os
import re
import secrets
import shutil
from pathlib import Path

from mlkit.errors import DestinationExistsError

MARKER = ".mlkit"  # JSON {"kind": ...} in every directory mlkit writes (run, export, shards)


def write_marker(directory, kind, **details):
    path = Path(directory) / MARKER
    path.write_text(json.dumps({"kind": kind, **details}, sort_keys=True) + "\n")


def read_marker(directory):
    """The marker of an mlkit-written directory, or None."""
    path = Path(directory) / MARKER
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _temporary_name(path, suffix):
    return path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{suffix}"


def remove_stale_temporaries(path):
    """Remove temporaries beside `path` left by processes that no longer run (a kill mid-write)."""
    path = Path(path)
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.(\d+)\.[0-9a-f]{{8}}")
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return
    for entry in entries:
        match = pattern.match(entry.name)
        if match and not _process_alive(int(match.group(1))):
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)


def _process_alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def atomic_path(path, suffix="", replace=True):
    """Yield a temporary file path beside `path`; rename it onto `path` on success.

    An existing directory at `path` is never replaced (IsADirectoryError); an
    existing file only with `replace=True`. On error the temporary is removed and
    `path` is left as it was.
    """
    path = Path(path)
    _check_file_destination(path, replace)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary_name(path, suffix or path.suffix)
    try:
        yield temporary
        _check_file_destination(path, replace)  # again: it may have appeared meanwhile
        os.replace(temporary, path)
    finally:
        if temporary.is_dir():
            shutil.rmtree(temporary, ignore_errors=True)
        elif temporary.exists():
            temporary.unlink()


def _check_file_destination(path, replace):
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory; refusing to replace it with a file")
    if path.exists() and not replace:
        raise DestinationExistsError(f"{path} already exists; pass --overwrite to replace it")


@contextlib.contextmanager
def atomic_directory(path, kind, replace=False):
    """Yield a temporary directory beside `path`; move it onto `path` on success.

    The new directory gets mlkit's marker of `kind`. An existing `path` is
    replaced only with `replace=True` and only if it is an mlkit directory of the
    same kind; anything else there (a user's folder, a run directory, a file)
    makes this raise DestinationExistsError before any work is done.
    """
    path = Path(path)
    check_directory_destination(path, kind, replace)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    temporary = _temporary_name(path, ".tmp")
    temporary.mkdir()
    try:
        yield temporary
        write_marker(temporary, kind)
        check_directory_destination(path, kind, replace)
        if path.exists():
            old = _temporary_name(path, ".old")
            os.replace(path, old)
            os.replace(temporary, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(temporary, path)
    finally:
        if temporary.exists():
            shutil.rmtree(temporary, ignore_errors=True)


def check_directory_destination(path, kind, replace=False):
    """Raise DestinationExistsError unless `path` is free or replaceable (see atomic_directory)."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return
    if not path.is_dir() or path.is_symlink():
        raise DestinationExistsError(f"{path} exists and is not a directory; refusing to replace it")
    marker = read_marker(path)
    if marker is None or marker.get("kind") != kind:
        what = "an mlkit " + marker["kind"] + " directory" if marker else "a directory mlkit did not write"
        raise DestinationExistsError(f"{path} is {what}; refusing to replace it (choose another path)")
    if not replace:
        raise DestinationExistsError(f"{path} already holds an mlkit {kind}; pass --overwrite to replace it")


def write_text(path, text):
    with atomic_path(path) as temporary:
        temporary.write_text(text)


def write_csv(frame, path):
    """A pandas DataFrame as CSV without the index, written atomically."""
    with atomic_path(path) as temporary:
        frame.to_csv(temporary, index=False)


def markdown_table(frame, digits=4):
    """A DataFrame as a Markdown table for report.md; floats to `digits` significant digits, None/NaN as "–"."""
    import math

    def cell(value):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        return f"{value:.{digits}g}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def write_json(path, data):
    write_text(path, json.dumps(data, indent=2, sort_keys=True, default=_to_builtin) + "\n")


def read_json(path):
    return json.loads(Path(path).read_text())


def _to_builtin(value):
    """JSON fallback for NumPy scalars/arrays and paths."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
