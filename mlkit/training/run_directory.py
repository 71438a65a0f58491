"""The run directory: everything one recipe run produces, in one place.

    runs/<recipe>/<timestamp>/
        config.json   the full recipe config (and the model's builder config)
        history.csv   per-epoch losses and metrics (CSVLogger)
        metrics.json  final evaluation
        model.keras   best model by the monitored validation metric
        export/       TensorFlow SavedModel for serving
        plots/*.png   learning curves and recipe plots
        backup/       BackupAndRestore state while a run is unfinished
"""

import datetime
from pathlib import Path

from mlkit.io import read_json, write_json


class RunDirectory:
    def __init__(self, path):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.plots.mkdir(exist_ok=True)

    @classmethod
    def create(cls, recipe, root="runs"):
        """A fresh `root/recipe/<timestamp>` directory (suffixed if taken)."""
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        base = Path(root) / recipe / stamp
        path, counter = base, 1
        while path.exists():
            path, counter = base.with_name(f"{stamp}-{counter}"), counter + 1
        return cls(path)

    config = property(lambda self: self.path / "config.json")
    history = property(lambda self: self.path / "history.csv")
    metrics = property(lambda self: self.path / "metrics.json")
    model = property(lambda self: self.path / "model.keras")
    export = property(lambda self: self.path / "export")
    plots = property(lambda self: self.path / "plots")
    backup = property(lambda self: self.path / "backup")

    @property
    def is_resuming(self):
        """True when an interrupted run left BackupAndRestore state here."""
        return self.backup.is_dir() and any(self.backup.iterdir())

    def write_config(self, config):
        """Record the config; a resumed run must use the config it started with."""
        if self.config.exists():
            previous = read_json(self.config)
            if _normalise(previous) != _normalise(config):
                raise ValueError(
                    f"{self.path} holds a run with a different config; choose another output directory."
                )
            return
        write_json(self.config, config)

    def write_metrics(self, metrics):
        write_json(self.metrics, metrics)

    def __fspath__(self):
        return str(self.path)

    def __repr__(self):
        return f"RunDirectory({str(self.path)!r})"


def _normalise(config):
    # JSON round trip so tuples and lists compare equal.
    import json

    return json.loads(json.dumps(config, sort_keys=True, default=str))
