"""The run directory: everything one recipe run produces, in one place.

    runs/<recipe>/<timestamp>/
        .mlkit        marker: mlkit wrote this directory (nothing else is ever replaced)
        .lock         held (flock) by the one process writing the run
        config.json   the full recipe config (written first) and, under "builders", each model's builder config
        state.json    finished phases (e.g. training), so a rerun skips straight past them
        history.csv   per-epoch losses and metrics
        metrics.json  final evaluation; its presence means the run is finished
        model.keras   best (or last) model
        export/<name>/ TensorFlow SavedModels for serving, one per exported part
        plots/*.png   learning curves and recipe plots
        backup/       BackupAndRestore state while training is unfinished
        <child>/      a run directory per model, for recipes that train several
"""

import datetime
import fcntl
import os
from pathlib import Path

from mlkit.errors import MlkitError, RunDirectoryBusyError
from mlkit.io import read_json, read_marker, write_json, write_marker

KIND = "run"
# What makes a run worth keeping after a failure: without these it is removed again.
TRAINING_RESULTS = ("history.csv", "model.keras", "backup", "checkpoints", "metrics.json")


class RunDirectory:
    """The layout of one run directory; creating it marks it as mlkit's.

    An existing non-empty directory without mlkit's marker is refused: mlkit
    never writes into a folder it did not make.
    """

    def __init__(self, path):
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise MlkitError(f"{self.path} is a file, not a run directory")
        marker = read_marker(self.path) if self.path.is_dir() else None
        if marker is None:
            if self.path.is_dir() and any(self.path.iterdir()):
                raise MlkitError(f"{self.path} is a folder mlkit did not create; refusing to write a run into it")
            self.path.mkdir(parents=True, exist_ok=True)
            write_marker(self.path, KIND)
        elif marker.get("kind") != KIND:
            raise MlkitError(f"{self.path} is an mlkit {marker.get('kind')} directory, not a run directory")
        self.plots.mkdir(exist_ok=True)

    @staticmethod
    def is_run(path):
        marker = read_marker(path)
        return marker is not None and marker.get("kind") == KIND

    @staticmethod
    def new_path(recipe, root="runs"):
        """A fresh `root/recipe/<timestamp>` path (suffixed if taken); not created."""
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        base = Path(root) / recipe / stamp
        path, counter = base, 1
        while path.exists():
            path, counter = base.with_name(f"{stamp}-{counter}"), counter + 1
        return path

    @classmethod
    def create(cls, recipe, root="runs"):
        return cls(cls.new_path(recipe, root))

    config = property(lambda self: self.path / "config.json")
    state = property(lambda self: self.path / "state.json")
    history = property(lambda self: self.path / "history.csv")
    metrics = property(lambda self: self.path / "metrics.json")
    model = property(lambda self: self.path / "model.keras")
    export = property(lambda self: self.path / "export")
    plots = property(lambda self: self.path / "plots")
    backup = property(lambda self: self.path / "backup")
    checkpoints = property(lambda self: self.path / "checkpoints")

    def child(self, name):
        return RunDirectory(self.path / name)

    def export_path(self, name):
        return self.export / name

    @property
    def is_resuming(self):
        """True when an interrupted run left BackupAndRestore state here."""
        return self.backup.is_dir() and any(self.backup.iterdir())

    @property
    def is_finished(self):
        return self.metrics.is_file()

    def is_done(self, phase):
        return phase in self._state().get("done", {})

    def done_info(self, phase):
        return self._state().get("done", {}).get(phase)

    def mark_done(self, phase, info=None):
        state = self._state()
        state.setdefault("done", {})[phase] = info or {}
        write_json(self.state, state)

    def _state(self):
        return read_json(self.state) if self.state.is_file() else {}

    def write_config(self, config, added=None):
        """Record the config; a resumed run must use the config it started with (`added`: see `with_added`)."""
        if self.config.exists():
            previous = with_added(read_json(self.config), added)
            if comparable(previous) != comparable(config):
                raise MlkitError(f"{self.path} holds a run with a different config; choose another output directory")
            config = {**previous, **config}
        write_json(self.config, config)

    def write_metrics(self, metrics):
        write_json(self.metrics, metrics)

    def has_results(self):
        """True once training (or a finished run) wrote something here."""
        return has_results(self.path)

    def __fspath__(self):
        return str(self.path)

    def __repr__(self):
        return f"RunDirectory({str(self.path)!r})"


def has_results(path):
    """Whether training (or a finished run) left anything worth resuming under `path`."""
    return any(any(Path(path).rglob(name)) for name in TRAINING_RESULTS)


# Keys that describe where or how a run executes, not what it computes: a resume may differ in them.
# Keys that may differ on resume: where the run lives, what was resolved, what is only logged.
VOLATILE_KEYS = ("out", "precision_policy", "replicas", "global_batch_size", "overwrite", "tensorboard")


def with_added(config, added):
    """A stored config completed with the settings added since it was written (`start_run(added=...)`):
    each missing key takes the value that does what the code did before the key existed."""
    return {**{key: value for key, value in (added or {}).items() if key not in config}, **config}


def comparable(config):
    import json

    ignored = set(VOLATILE_KEYS) | set(config.get("recorded", [])) | {"recorded"}
    config = {key: value for key, value in config.items() if key not in ignored}
    return json.loads(json.dumps(config, sort_keys=True, default=str))


class RunLock:
    """An exclusive OS lock (flock) on `<run>/.lock` for the life of a run.

    flock is released by the kernel when the process dies, so a killed run never
    leaves a stale lock behind.
    """

    def __init__(self, path):
        self.path = Path(path) / ".lock"
        self._handle = None

    def acquire(self):
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "another process"
            handle.close()
            raise RunDirectoryBusyError(
                f"{self.path.parent} is in use by another mlkit run (pid {owner}); wait for it or choose another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle
        return self

    def release(self):
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
