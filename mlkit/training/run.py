"""The run context every recipe uses: config → seed, strategy, precision → run directory → export.

    with start_run("mnist_dnn", DEFAULTS, overrides) as run:
        data = mnist(batch_size=run.global_batch_size)
        with run.strategy.scope():
            model = mnist_dnn(...)
            model.compile(run.optimizer(), ...)
        run.record_model("model", model)  # config.json: "builders": {"model": {...}}
        best, history = fit(model, data.train, data.validation, run, epochs=run.config["epochs"])
        return run.finish({"test_accuracy": ...}, exports={"model": best}, sample=...)

Before anything is created the config is checked (types and ranges against the
defaults), then the run directory is opened: a different config, another
recipe's run, a finished run (without `overwrite`) or a run locked by another
process is refused before any work. The config is written before training; the
dtype policy is restored and the lock released whatever happens; a directory
this run created and trained nothing in is removed again on failure.
"""

import contextlib
import math
import numbers
import shutil
import tempfile
from pathlib import Path

import keras

from mlkit.errors import MlkitError, RunFinishedError
from mlkit.io import read_json, read_marker
from mlkit.training.export import export_model
from mlkit.training.precision import PRECISIONS
from mlkit.training.run_directory import KIND, RunDirectory, RunLock, comparable, has_results, with_added
from mlkit.training.strategy import STRATEGIES

COMMON_DEFAULTS = {
    "seed": 0,
    "out": None,  # the run directory; default runs/<recipe>/<timestamp>
    "runs_root": "runs",
    "strategy": "auto",
    "deterministic": False,
    "precision": "float32",  # float32 | mixed_bfloat16 | mixed_float16 | auto (see resolve_precision)
    "tensorboard": False,  # `fit` also writes TensorBoard events (scalars, histograms, graph) under tensorboard/
}
# Recipes that train with a Keras optimizer add these to their DEFAULTS (run.optimizer() reads them).
OPTIMIZER_DEFAULTS = {
    "optimizer": "adam",  # any keras.optimizers name (adam, sgd, rmsprop, adamw, nadam …) or nesterov_rmsprop
    "learning_rate": 1e-3,
    "schedule": None,  # cosine | cosine_warmup | step | exponential | inverse_time | plateau (mlkit.optimizers.
    #                    named_schedule), or {"class_name": "CosineDecay", "config": {...}}
    "clipnorm": None,
}
CHOICES = {"strategy": STRATEGIES, "precision": PRECISIONS}
NULLABLE_NUMBERS = ("clipnorm",)


def merge_config(defaults, overrides=None):
    """Recipe defaults updated by `overrides`, checked against the defaults' types.

    Unknown keys are an error and None means unset. A value must have the type of
    its default (an int for an int, a number for a float, a list for a list …);
    numbers must be positive where the default is positive and non-negative
    where it is 0. Raises one ValueError naming the key.
    """
    config = {**COMMON_DEFAULTS, **defaults}
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(config))
    if unknown:
        raise ValueError(f"Unknown config key(s): {', '.join(unknown)}; known: {', '.join(sorted(config))}.")
    for key, value in overrides.items():
        if value is not None:
            check_setting(key, value, config[key])
            config[key] = value
    return config


def check_setting(key, value, default):
    """One recipe setting against the type and sign of its default."""
    if key in CHOICES and value not in CHOICES[key]:
        raise ValueError(f"`{key}` must be one of {', '.join(CHOICES[key])}; got {value!r}.")
    if key == "jit_compile":
        if not (isinstance(value, bool) or value == "auto"):
            raise ValueError(f"`jit_compile` must be true, false or \"auto\", got {value!r}.")
        return
    if key == "schedule":
        from mlkit.optimizers import SCHEDULE_NAMES

        if not (value in SCHEDULE_NAMES or (isinstance(value, dict) and "class_name" in value)):
            raise ValueError(f"`schedule` must be one of {', '.join(SCHEDULE_NAMES)} or "
                             f"{{\"class_name\": ..., \"config\": {{...}}}}, got {value!r}.")
        return
    if key in NULLABLE_NUMBERS and default is None:
        default = 1.0
    if default is None:
        return
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"`{key}` must be true or false, got {value!r}.")
    elif isinstance(default, numbers.Integral):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"`{key}` must be an integer, got {value!r}.")
        _check_sign(key, value, default)
    elif isinstance(default, numbers.Real):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value or abs(value) == float("inf"):
            raise ValueError(f"`{key}` must be a finite number, got {value!r}.")
        _check_sign(key, value, default)
    elif isinstance(default, str):
        if not isinstance(value, str):
            raise ValueError(f"`{key}` must be a string, got {value!r}.")
    elif isinstance(default, (list, tuple)):
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"`{key}` must be a list (JSON, e.g. [1, 2]), got {value!r}.")
    elif isinstance(default, dict) and not isinstance(value, dict):
        raise ValueError(f"`{key}` must be a JSON object, got {value!r}.")


# Settings that may be 0 although their default is positive (0 turns the feature off).
MAY_BE_ZERO = ("dropout", "head_dropout", "l2", "momentum", "weight_decay", "label_smoothing")


def _check_sign(key, value, default):
    if default > 0 and not value > 0 and not (key in MAY_BE_ZERO and value == 0):
        raise ValueError(f"`{key}` must be positive, got {value!r}.")
    if default == 0 and value < 0:
        raise ValueError(f"`{key}` must be non-negative, got {value!r}.")


class Run:
    """One open run: config, strategy, run directory, and the ways to record and finish it."""

    def __init__(self, recipe, config, directory, strategy, parent=None):
        self.recipe = recipe
        self.config = config
        self.directory = directory
        self.strategy = strategy
        self.parent = parent

    @property
    def path(self):
        return self.directory.path

    @property
    def seed(self):
        return self.config["seed"]

    @property
    def global_batch_size(self):
        """`batch_size` (per replica) × replicas in sync."""
        if "batch_size" not in self.config:
            raise ValueError(f"Recipe {self.recipe!r} has no `batch_size` setting.")
        return self.config["batch_size"] * self.strategy.num_replicas_in_sync

    def total_steps(self, num_examples, epochs=None):
        """Training steps of the run: `epochs` (default: the config's) × ⌈examples / global batch⌉,
        what `schedule="cosine"` decays over."""
        epochs = self.config["epochs"] if epochs is None else epochs
        return int(epochs) * math.ceil(int(num_examples) / self.global_batch_size)

    def optimizer(self, total_steps=None, **overrides):
        """A fresh Keras optimizer from the config (optimizer, learning_rate, schedule, clipnorm).

        `total_steps` (epochs × steps per epoch) is what `schedule="cosine"` decays over.
        """
        settings = {key: self.config.get(key, default) for key, default in OPTIMIZER_DEFAULTS.items()}
        settings.update(overrides)
        return make_optimizer(total_steps=total_steps, **settings)

    @property
    def jit_compile(self):
        """`model.compile(jit_compile=...)` from the config's "jit_compile" (recipes that have it).

        "auto" means XLA on a machine with one CPU device and no GPU or TPU, where Keras' own
        "auto" never uses it although it makes recurrent layers' training steps 1.4-1.8x faster
        (their generic kernels are many small ops); elsewhere Keras decides (cuDNN for LSTM/GRU).
        """
        setting = self.config.get("jit_compile", False)
        if setting != "auto":
            return setting
        import tensorflow as tf

        cpu_only = not tf.config.list_logical_devices("GPU") and not tf.config.list_logical_devices("TPU")
        return True if cpu_only and self.strategy.num_replicas_in_sync == 1 else "auto"

    def record_model(self, name, model):
        """Record `model.builder_config` under config.json's "builders"[name] (the one place for it)."""
        builders = dict(self._recorded().get("builders", {}))
        builders[name] = getattr(model, "builder_config", {"class": type(model).__name__})
        self.record("builders", builders)

    def record(self, key, value):
        """Add what the run found out (e.g. the simulator settings of its data) to config.json.

        Recorded keys are listed under "recorded" and are not part of the config a resume compares.
        """
        if key in self.config and key not in self._recorded().get("recorded", []):
            raise ValueError(f"`{key}` is a setting of recipe {self.recipe!r}; record under another name.")
        config = self._recorded()
        config[key] = value
        config["recorded"] = sorted(set(config.get("recorded", [])) | {key})
        self.directory.write_config(config)

    def _recorded(self):
        return read_json(self.directory.config) if self.directory.config.is_file() else dict(self.config)

    def child(self, name):
        """A run directory inside this one for one of several models (same config, lock and strategy)."""
        directory = self.directory.child(name)
        return Run(self.recipe, self.config, directory, self.strategy, parent=self)

    def export_path(self, name):
        return self.directory.export_path(name)

    def finish(self, metrics, exports=None, sample=None, metadata=None, input_range=None, stochastic=()):
        """Export every model in `exports` ({name: model}) under export/<name>/, write metrics.json.

        `sample` is one input batch (or {name: batch}) for the export's output check;
        `metadata` ({name: {file name: JSON}}) is written inside that export;
        `input_range` ((min, max), or {name: (min, max)}) is the range of the training
        inputs, which `mlkit predict` enforces; models named in `stochastic` also get a
        `sample` endpoint with dropout active (Monte-Carlo dropout). Each
        export is verified before it is moved into place, so rerunning a run killed
        here just exports again.
        """
        from mlkit.training.distributed import is_chief

        exported = {}
        # a multi-worker run's other workers write into a directory that is removed: no exports there
        for name, model in (exports or {}).items() if is_chief(self.strategy) else ():
            part_sample = sample.get(name) if isinstance(sample, dict) else sample
            part_range = input_range.get(name) if isinstance(input_range, dict) else input_range
            path = self.export_path(name)
            export_model(model, path, part_sample, extra_files=(metadata or {}).get(name), input_range=part_range,
                         replace=True, stochastic=name in stochastic)
            exported[name] = str(path)
        metrics = dict(metrics)
        if exported:
            metrics["exports"] = exported
        metrics["run_directory"] = str(self.path)
        self.directory.write_metrics(metrics)
        return metrics


def make_optimizer(optimizer="adam", learning_rate=1e-3, schedule=None, clipnorm=None, total_steps=None,
                   **arguments):
    """A Keras optimizer by name with an optional learning-rate schedule and gradient clipping.

    `schedule` is None, a name (`mlkit.optimizers.named_schedule`: cosine, cosine_warmup, step,
    exponential, inverse_time over `total_steps`; plateau), or a Keras or mlkit schedule as
    {"class_name": ..., "config": {...}} whose initial learning rate is `learning_rate`.
    """
    from mlkit.optimizers import CUSTOM_SCHEDULES, named_schedule

    if isinstance(schedule, str):
        learning_rate = named_schedule(schedule, learning_rate, total_steps) or learning_rate
        schedule = None
    if schedule is not None:
        if not isinstance(schedule, dict) or "class_name" not in schedule:
            raise ValueError(f"`schedule` must be {{'class_name': ..., 'config': {{...}}}}, got {schedule!r}.")
        config = {"initial_learning_rate": learning_rate, **schedule.get("config", {})}
        try:
            learning_rate = keras.optimizers.schedules.deserialize(
                {"class_name": schedule["class_name"], "config": config}, custom_objects=CUSTOM_SCHEDULES)
        except (TypeError, ValueError) as error:
            raise ValueError(f"`schedule` {schedule['class_name']!r} cannot be built: {error}") from None
        if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
            raise ValueError(f"`schedule` {schedule['class_name']!r} is not a keras.optimizers.schedules class.")
    if clipnorm is not None:
        arguments["clipnorm"] = clipnorm
    try:
        if optimizer in ("nesterov_rmsprop", "NesterovRMSprop"):  # mlkit's (Keras has no such name)
            from mlkit.optimizers import NesterovRMSprop

            return NesterovRMSprop(learning_rate=learning_rate, **arguments)
        instance = keras.optimizers.get({"class_name": optimizer, "config": {}})
        return instance.__class__(learning_rate=learning_rate, **arguments)
    except (TypeError, ValueError) as error:
        raise ValueError(f"`optimizer` {optimizer!r} cannot be built: {error}") from None


@contextlib.contextmanager
def start_run(recipe, defaults, overrides=None, overwrite=False, check=None, added=None):
    """Open a run (see the module docstring); yields a `Run`.

    `check(config)` validates recipe-specific settings (raising ValueError)
    before anything is created. `added` ({key: value}) names settings the recipe gained after
    runs were started without them, each with the value that does what the code did before the
    key existed: an unfinished run whose config lacks such a key resumes if the key has that value.
    """
    from mlkit.training.fit import set_seed
    from mlkit.training.precision import set_precision
    from mlkit.training.strategy import resolve_strategy

    config = merge_config(defaults, overrides)
    if check is not None:
        check(config)
    config["recipe"] = recipe
    strategy, worker_folder = None, None
    if config["strategy"] == "multi_worker":  # joins the cluster first: it must precede other TensorFlow work
        from mlkit.training.distributed import is_chief

        strategy = resolve_strategy("multi_worker")
        if not is_chief(strategy):  # only the chief writes the run directory; the others write here
            worker_folder = Path(tempfile.mkdtemp(prefix="mlkit-worker-"))
    path = worker_folder / "run" if worker_folder else _run_path(recipe, config)
    created = not path.exists()
    new_parents = [parent for parent in path.parents if not parent.exists()]
    lock = None
    previous_policy = keras.mixed_precision.global_policy().name
    try:
        _check_existing(path, recipe, config, overwrite, added)
        directory = RunDirectory(path)
        lock = RunLock(directory.path).acquire()
        _check_existing(directory.path, recipe, config, overwrite, added)  # again, now that we hold the lock
        if overwrite and directory.config.is_file():
            _clear(directory.path)
        config["out"] = str(directory.path)
        set_seed(config["seed"], config["deterministic"])
        strategy = strategy or resolve_strategy(config["strategy"])
        config["precision_policy"] = set_precision(config["precision"])
        config["replicas"] = strategy.num_replicas_in_sync
        directory.write_config(config, added)
        yield Run(recipe, config, directory, strategy)
    except BaseException:
        # A failed start (bad setting, refused data) leaves nothing behind; only the lock holder cleans.
        if created and lock is not None and path.is_dir() and not has_results(path):
            shutil.rmtree(path, ignore_errors=True)
            for parent in new_parents:  # runs/<recipe>/ too, if this run made it and it is empty
                with contextlib.suppress(OSError):
                    parent.rmdir()
        raise
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)
        if lock is not None:
            lock.release()
        if worker_folder is not None:
            shutil.rmtree(worker_folder, ignore_errors=True)


def _run_path(recipe, config):
    if config["out"]:
        return Path(config["out"])
    return RunDirectory.new_path(recipe, config["runs_root"])


def _check_existing(path, recipe, config, overwrite, added=None):
    """Refuse before any work: another recipe's run, a different config, a finished run."""
    if not path.exists():
        return
    if not path.is_dir():
        raise MlkitError(f"{path} is a file, not a run directory")
    marker = read_marker(path)
    if marker is None:
        if any(entry.name != ".lock" for entry in path.iterdir()):
            raise MlkitError(f"{path} is a folder mlkit did not create; refusing to write a run into it")
        return
    if marker.get("kind") != KIND:
        raise MlkitError(f"{path} is an mlkit {marker.get('kind')} directory, not a run directory")
    config_file = path / "config.json"
    if not config_file.is_file():
        return
    previous = read_json(config_file)
    if previous.get("recipe", recipe) != recipe:
        raise MlkitError(f"{path} holds a run of recipe {previous.get('recipe')!r}, not {recipe!r}")
    if overwrite:  # the user asked to start this run of ours afresh
        return
    finished = (path / "metrics.json").is_file()
    if finished:
        raise RunFinishedError(f"{path} holds a finished run (metrics.json); pass --overwrite to run it again")
    before, now = comparable(with_added(previous, added)), comparable(config)
    if before != now:
        changed = sorted(key for key in set(before) | set(now) if before.get(key) != now.get(key))
        raise MlkitError(f"{path} holds an unfinished run with a different config ({', '.join(changed)}); "
                         "rerun with the same settings to resume, or choose another --out")


def _clear(path):
    """Empty a run directory of ours (marker and lock stay) for `overwrite`."""
    for entry in path.iterdir():
        if entry.name in (".mlkit", ".lock"):
            continue
        shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
