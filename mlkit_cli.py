"""The `mlkit` command line: argument parsing and error reporting, without importing TensorFlow.

This module lives outside the `mlkit` package on purpose: importing anything in
`mlkit` runs its `__init__`, which registers the custom Keras objects and so
loads TensorFlow (about 4 s). `mlkit --help` and argument errors answer from
here at once; the commands themselves are in `mlkit.cli`.

Every failure the user can cause (bad arguments, missing or corrupt files, a busy
or finished run directory, an existing destination) ends with one line on stderr
and exit status 2. Anything else is a bug: one line and status 1, or the full
traceback with `--debug`.
"""

import argparse
import contextlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

EXIT_USAGE = 2
EXIT_BUG = 1
STRATEGIES = ["auto", "default", "mirrored", "tpu", "multi_worker"]
PRECISIONS = ["float32", "mixed_bfloat16", "mixed_float16", "auto"]
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".pdf", ".svg")
STYLE_NETWORKS = ["vgg19", "vgg16", "random_multiscale"]


class CommandError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of usage + error
        raise CommandError(f"{message} (see `{self.prog} --help`)")


def parse_assignment(text):
    """--set KEY=VALUE: VALUE as JSON, or a bare string when it is not JSON and not JSON-looking."""
    if "=" not in text:
        raise CommandError(f"--set expects KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    try:
        return key, json.loads(value)
    except json.JSONDecodeError as error:
        if value[:1] in "[{\"" or value.strip() in ("", "-"):
            raise CommandError(f"--set {key}: {value!r} is not valid JSON ({error.msg})") from None
        return key, value  # a bare string, e.g. source=idx


def recipe_names():
    """The recipe modules, found without importing the package."""
    locations = importlib.util.find_spec("mlkit").submodule_search_locations
    folder = Path(list(locations)[0]) / "recipes"
    return sorted(path.stem for path in folder.glob("*.py") if not path.stem.startswith("_"))


def build_parser():
    parser = _Parser(prog="mlkit", description="mlkit: list and run recipes, export run directories, predict.")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of unexpected errors")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    commands.add_parser("recipes", help="list the recipes with one-line descriptions")

    run = commands.add_parser("run", help="run a recipe into a run directory")
    run.add_argument("recipe")
    run.add_argument("--epochs", type=int)
    run.add_argument("--batch-size", type=int, help="per replica")
    run.add_argument("--strategy", choices=STRATEGIES)
    run.add_argument("--out", help="run directory (an interrupted one resumes); default runs/RECIPE/TIMESTAMP")
    run.add_argument("--overwrite", action="store_true",
                     help="start --out afresh even if it holds a finished run or one with other settings")
    run.add_argument("--seed", type=int)
    run.add_argument("--precision", choices=PRECISIONS,
                     help="dtype policy; auto: bfloat16 on CPUs with AMX/AVX512-BF16, float16 on GPUs")
    run.add_argument("--data", metavar="DIR", help="the recipe's input data (cats_dogs: one folder per class)")
    run.add_argument("--full", action="store_true", help="paper-scale settings (recipes that have them, e.g. xps)")
    run.add_argument("--tensorboard", action="store_true",
                     help="also write TensorBoard events (scalars, histograms, graph) under RUN/tensorboard/")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="any other recipe setting; VALUE is JSON or a plain string (repeatable)")

    tune = commands.add_parser(
        "tune", help="search a recipe's declared settings with KerasTuner; each trial is a child run",
        description="Random search, Bayesian optimisation or Hyperband over the recipe's SEARCH_SPACE, maximising "
                    "its TUNE_OBJECTIVE (a validation metric). Writes trials.csv, best_config.json, report.md and "
                    "plots/trials.png; rerunning the same --out resumes the search.")
    tune.add_argument("recipe")
    tune.add_argument("--tuner", choices=["random", "bayesian", "hyperband"], default="random")
    tune.add_argument("--trials", type=int, default=10, help="trials (random, bayesian; default 10)")
    tune.add_argument("--out", help="tuning directory (default runs/tune_RECIPE/TIMESTAMP)")
    tune.add_argument("--seed", type=int, default=0)
    tune.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      help="a fixed recipe setting for every trial (repeatable)")

    launch = commands.add_parser(
        "launch", help="run a recipe on N local worker processes (MultiWorkerMirroredStrategy)",
        description="Starts N workers on 127.0.0.1 with free ports and a TF_CONFIG each, running `mlkit run RECIPE "
                    "[options] --strategy multi_worker`. Worker 0 is the chief: it alone writes --out and prints. "
                    "If a worker fails, the others are stopped and the exit status is 2.")
    launch.add_argument("--workers", type=int, required=True, help="number of worker processes (1-64)")
    launch.add_argument("--timeout", type=float, help="stop every worker after this many seconds (default: none)")
    launch.add_argument("recipe")
    launch.add_argument("options", nargs=argparse.REMAINDER, help="`mlkit run` options (--epochs, --out, --set …)")

    export = commands.add_parser("export", help="export a run's model.keras file(s) as SavedModels")
    export.add_argument("run_dir")
    export.add_argument("--out", help="SavedModel directory (default RUN_DIR/export/<name>); single-model runs only")
    export.add_argument("--overwrite", action="store_true", help="replace an earlier mlkit export there")

    predict = commands.add_parser("predict", help="predict with an exported SavedModel")
    predict.add_argument("model_dir", help="a SavedModel directory, or a run directory with export/")
    predict.add_argument("input", help=".npy or .csv file of examples; for a text model, the text itself "
                                       "(e.g. 123+456) or a .txt file with one text a line")
    predict.add_argument("--output", help="write predictions to this .csv or .npy (a text model's answers: .txt or .csv) "
                                           "instead of stdout")
    predict.add_argument("--overwrite", action="store_true", help="replace an existing --output file")

    sample = commands.add_parser("sample", help="draw images from an exported GAN generator into a grid PNG")
    sample.add_argument("model_dir", help="a run directory with export/generator, or the generator's SavedModel")
    sample.add_argument("--n", type=int, default=64, help="number of images (default 64)")
    sample.add_argument("--seed", type=int, default=0, help="seed of the noise (default 0)")
    sample.add_argument("--out", required=True, help="the grid image to write (.png, .jpg, .pdf or .svg)")
    sample.add_argument("--columns", type=int, help="images per row (default: a square grid)")
    sample.add_argument("--overwrite", action="store_true", help="replace an existing --out file")

    rl = commands.add_parser("rl", help="reinforcement learning: play an exported Q-network's policy")
    rl_commands = rl.add_subparsers(dest="rl_command", required=True, parser_class=_Parser)
    play = rl_commands.add_parser("play", help="greedy episodes of a DQN run's exported Q-network, optionally a GIF")
    play.add_argument("model_dir", help="a DQN run directory (with export/q_network), or the Q-network's SavedModel")
    play.add_argument("--episodes", type=int, default=10, help="episodes to play (default 10)")
    play.add_argument("--seed", type=int, default=0,
                      help="seed of the first episode; the next get seed+1, … (default 0)")
    play.add_argument("--render-gif", help="record the first episode as this animated .gif")
    play.add_argument("--overwrite", action="store_true", help="replace an existing --render-gif file")

    style = commands.add_parser(
        "style-transfer", help="paint a content image in a style image's style (Gatys et al.), into one image file",
        description="Optimise the pixels of the content image against its content features and the style image's "
                    "Gram matrices. The default VGG19 needs its ImageNet weights (Keras cache, a download, or "
                    "--weights PATH); --network random_multiscale runs offline with random filters.")
    style.add_argument("content", help="content image (PNG, JPEG …; the result has its aspect ratio)")
    style.add_argument("style", help="style image")
    style.add_argument("--out", required=True, help="the result: .png, .jpg or .jpeg")
    style.add_argument("--size", type=int, default=384, help="longer side of the result in pixels (default 384)")
    style.add_argument("--steps", type=int, default=300, help="optimisation steps (default 300)")
    style.add_argument("--network", choices=STYLE_NETWORKS, default="vgg19", help="feature network (default vgg19)")
    style.add_argument("--weights", metavar="PATH",
                       help="VGG weights file (.h5, keras.applications' no-top file) instead of the Keras cache")
    style.add_argument("--content-weight", type=float, default=1e-3, help="α (default 1e-3)")
    style.add_argument("--style-weight", type=float, default=1.0, help="β (default 1; α/β 1e-2 keeps more content)")
    style.add_argument("--tv-weight", type=float, default=0.0, help="total-variation weight γ (default 0)")
    style.add_argument("--optimizer", choices=["lbfgs", "adam"], default="lbfgs")
    style.add_argument("--init", choices=["content", "noise"], default="content", help="start image (default content)")
    style.add_argument("--seed", type=int, default=0, help="seed of the noise start and of random features")
    style.add_argument("--overwrite", action="store_true", help="replace an existing --out file")

    xps = commands.add_parser("xps", help="XPS survey spectra: simulate datasets, quantify measured spectra")
    xps_commands = xps.add_subparsers(dest="xps_command", required=True, parser_class=_Parser)
    simulate = xps_commands.add_parser("simulate", help="write simulated spectra as .npz shards + manifest.json")
    simulate.add_argument("--n", type=int, required=True, help="number of spectra")
    simulate.add_argument("--out", required=True, help="new directory for the shards")
    simulate.add_argument("--seed", type=int, default=0)
    simulate.add_argument("--shard-size", type=int, default=10_000)
    simulate.add_argument("--dtype", choices=["float32", "float16"], default="float32")
    simulate.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                          help="an XPSSimulator setting, e.g. source=Mg or points=1000 (repeatable)")
    quantify = xps_commands.add_parser(
        "predict", help="elements (at.%%) and overlayer thickness of spectra",
        description="Quantify every survey block of each file. A block is answered when it was measured at the "
                    "model's photon energy and, after energy referencing, covers the model's required window "
                    "(BE 30-1000 eV for the default model); bins outside the scan are marked unmeasured. Energy "
                    "reference: adventitious C 1s is located between 280 and 296 eV and a deviation from 284.8 eV "
                    "of 1.5 eV or more is corrected as charging; the applied shift is printed.")
    quantify.add_argument("model", help="exported XPS model (run directory or its export)")
    quantify.add_argument("spectra", nargs="+",
                          help="VAMAS, PHI .spe/MultiPak exports, SPECS .xy, Scienta .txt, Thermo .xlsx, CasaXPS "
                               "or Omicron text, or two-column text/CSV (energy, counts); every survey block is "
                               "quantified, narrow scans are listed as skipped")
    quantify.add_argument("--ensemble", action="append", default=[], metavar="MODEL",
                          help="another exported model trained alike (e.g. another seed) to average with MODEL; "
                               "the ± then includes the spread between the models (repeatable)")
    quantify.add_argument("--energy-scale", choices=["binding", "kinetic"], default=None,
                          help="abscissa of plain two-column text whose header does not say (default binding); "
                               "instrument formats state it themselves")
    quantify.add_argument("--threshold", type=float, default=1.0, help="list elements at or above this at.%%")
    quantify.add_argument("--refine", action="store_true",
                          help="also print the answer refined by fitting the simulator to each spectrum for the "
                               "elements the model proposes (seconds per spectrum; see README)")
    quantify.add_argument("--plot", metavar="DIR", help="save one PNG per spectrum into DIR")
    quantify.add_argument("--overwrite", action="store_true", help="replace existing plots in DIR")
    return parser


def check_arguments(args):
    """Checks that need no TensorFlow, so a wrong command fails at once."""
    if getattr(args, "seed", None) is not None and args.seed < 0:  # every command that takes --seed
        raise CommandError(f"--seed must be a non-negative integer, got {args.seed}")
    if args.command == "run":
        _check_recipe(args.recipe)
        for flag in ("epochs", "batch_size"):
            value = getattr(args, flag)
            if value is not None and value < 1:
                raise CommandError(f"--{flag.replace('_', '-')} must be a positive integer, got {value}")
        args.overrides = dict(parse_assignment(item) for item in args.set)
    if args.command == "sample":
        for flag in ("n", "columns"):
            value = getattr(args, flag)
            if value is not None and value < 1:
                raise CommandError(f"--{flag} must be a positive integer, got {value}")
        if args.n > 10_000:
            raise CommandError(f"--n is at most 10000 images in one grid, got {args.n}")
        if Path(args.out).suffix.lower() not in IMAGE_SUFFIXES:
            raise CommandError(f"--out must end in {', '.join(IMAGE_SUFFIXES)}, got {Path(args.out).name}")
    if args.command == "rl":
        if not 1 <= args.episodes <= 10_000:
            raise CommandError(f"--episodes must be between 1 and 10000, got {args.episodes}")
        if args.render_gif is not None and Path(args.render_gif).suffix.lower() != ".gif":
            raise CommandError(f"--render-gif must end in .gif, got {Path(args.render_gif).name}")
    if args.command == "launch":
        if not 1 <= args.workers <= 64:
            raise CommandError(f"--workers must be between 1 and 64, got {args.workers}")
        if args.timeout is not None and not args.timeout > 0:
            raise CommandError(f"--timeout must be a positive number of seconds, got {args.timeout}")
        run = build_parser().parse_args(["run", args.recipe, *args.options])  # the workers' command, checked here
        check_arguments(run)
        if run.strategy not in (None, "multi_worker"):
            raise CommandError(f"mlkit launch runs --strategy multi_worker, not {run.strategy}")
    if args.command == "tune":
        _check_recipe(args.recipe)
        if not 1 <= args.trials <= 10_000:
            raise CommandError(f"--trials must be between 1 and 10000, got {args.trials}")
        args.overrides = dict(parse_assignment(item) for item in args.set)
    if args.command == "style-transfer":
        _check_style_arguments(args)
    if args.command == "xps":
        if args.xps_command == "predict" and not 0 <= args.threshold <= 100:
            raise CommandError(f"--threshold is in at.%, between 0 and 100; got {args.threshold}")
        if args.xps_command == "simulate":
            if args.n < 1 or args.shard_size < 1:
                raise CommandError("--n and --shard-size must be positive integers")
            args.settings = dict(parse_assignment(item) for item in args.set)


def _check_recipe(name):
    names = recipe_names()
    if name not in names:
        raise CommandError(f"unknown recipe {name!r}; available: {', '.join(names)}")


def _check_style_arguments(args):
    for name in ("content", "style"):
        path = Path(getattr(args, name))
        if not path.is_file():
            raise CommandError(f"{name} image {path} does not exist")
    if not 16 <= args.size <= 4096:
        raise CommandError(f"--size must be between 16 and 4096 pixels, got {args.size}")
    if not 1 <= args.steps <= 100_000:
        raise CommandError(f"--steps must be between 1 and 100000, got {args.steps}")
    for flag in ("content_weight", "style_weight", "tv_weight"):
        value = getattr(args, flag)
        if not value >= 0 or value == float("inf"):
            raise CommandError(f"--{flag.replace('_', '-')} must be a non-negative number, got {value}")
    if args.weights is not None and not Path(args.weights).is_file():
        raise CommandError(f"--weights file {args.weights} does not exist")
    if Path(args.out).suffix.lower() not in (".png", ".jpg", ".jpeg"):  # the destination itself: mlkit.cli
        raise CommandError(f"--out must end in .png, .jpg or .jpeg, got {Path(args.out).name}")


def quiet_tensorflow():
    """Keep TensorFlow's start-up lines off the terminal.

    TF_CPP_MIN_LOG_LEVEL=2 hides its INFO and WARNING lines. On a machine with no
    NVIDIA device, level 3 also hides the `failed call to cuInit` ERROR line that
    TensorFlow's CUDA build prints on every CPU-only machine. The few lines written
    before absl's logging starts ignore both: `import tensorflow` runs with stderr
    captured, and what is not known start-up noise is printed again.
    """
    no_gpu = not any(Path("/dev").glob("nvidia[0-9]*"))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3" if no_gpu else "2")
    if "tensorflow" in sys.modules:
        return
    import tempfile

    noise = ("absl::InitializeLog", "cudart_stub.cc", "cpu_feature_guard.cc", "To enable the following instructions",
             "oneDNN custom operations are on")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode(errors="replace").splitlines(keepends=True):
                if not any(pattern in line for pattern in noise):
                    sys.stderr.write(line)


def _expected_errors():
    import zipfile

    from mlkit.errors import MlkitError

    kinds = [CommandError, MlkitError, ValueError, OSError, EOFError, zipfile.BadZipFile]
    if "tensorflow" in sys.modules:
        kinds.append(sys.modules["tensorflow"].errors.OpError)
    return tuple(kinds)


def free_ports(count):
    """Ports the system says are free on 127.0.0.1 (held together, so they differ)."""
    import socket

    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _stop_workers(processes, grace=10.0):
    """SIGTERM every running worker's process group, SIGKILL what is left after `grace` seconds."""
    import signal
    import time

    running = [process for process in processes if process.poll() is None]
    for process in running:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in running:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _exit_description(code):
    import signal

    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit status {code}"


def _last_error(log):
    log.seek(0)
    lines = [line.strip() for line in log.read().decode(errors="replace").splitlines() if line.strip()]
    errors = [line.removeprefix("mlkit: error: ") for line in lines
              if line.startswith(("mlkit: error: ", "mlkit: internal error: "))]
    return (errors or lines or [""])[-1]


# A worker that finished while the others still run after this long is not coming back.
FINISH_GRACE_SECONDS = 120.0


def launch_workers(args):
    """`mlkit launch`: N local workers of `mlkit run … --strategy multi_worker`; 0 when all succeed."""
    import shutil
    import tempfile
    import time

    hosts = [f"127.0.0.1:{port}" for port in free_ports(args.workers)]
    command = [sys.executable, "-m", "mlkit_cli", "run", args.recipe, *args.options]
    if "--strategy" not in args.options:
        command += ["--strategy", "multi_worker"]
    scratch = tempfile.mkdtemp(prefix="mlkit-launch-")  # the workers' TMPDIR: gone even if one is killed
    processes, logs = [], []
    try:
        for index in range(args.workers):
            environment = dict(os.environ, TMPDIR=scratch, TF_CONFIG=json.dumps(
                {"cluster": {"worker": hosts}, "task": {"type": "worker", "index": index}}))
            log = tempfile.TemporaryFile(dir=scratch)  # the chief prints; the others' stderr is kept for errors
            logs.append(log)
            processes.append(subprocess.Popen(
                command, env=environment, stdout=None if index == 0 else subprocess.DEVNULL,
                stderr=None if index == 0 else log, start_new_session=True))
            print(f"mlkit launch: worker {index}{' (chief)' if index == 0 else ''} on {hosts[index]}, "
                  f"pid {processes[-1].pid}", file=sys.stderr, flush=True)
        started, first_done = time.monotonic(), None
        while True:
            codes = [process.poll() for process in processes]
            failed = [(index, code) for index, code in enumerate(codes) if code not in (None, 0)]
            if failed:
                index, code = failed[0]
                _stop_workers(processes)
                # the chief's own error is on the terminal already; a killed worker has none to tell
                detail = "" if index == 0 or code < 0 else f": {_last_error(logs[index])}"
                raise CommandError(f"worker {index} failed ({_exit_description(code)}){detail}; "
                                   "stopped the other workers")
            if all(code == 0 for code in codes):
                return 0
            now = time.monotonic()
            if first_done is None and 0 in codes:
                first_done = now
            if args.timeout and now - started > args.timeout:
                _stop_workers(processes)
                raise CommandError(f"the workers did not finish within --timeout {args.timeout:g} s; stopped them")
            if first_done is not None and now - first_done > FINISH_GRACE_SECONDS:
                _stop_workers(processes)
                raise CommandError(f"a worker finished but the others did not within {FINISH_GRACE_SECONDS:.0f} s; "
                                   "stopped them")
            time.sleep(0.2)
    finally:
        _stop_workers(processes)
        for log in logs:
            log.close()
        shutil.rmtree(scratch, ignore_errors=True)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        check_arguments(args)
        if args.command == "launch":  # the launcher itself needs no TensorFlow
            return launch_workers(args)
        quiet_tensorflow()
        from mlkit import cli

        return cli.run_command(args)
    except CommandError as error:
        print(f"mlkit: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mlkit: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001  (sorted into user errors and bugs below)
        if debug:
            raise
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if isinstance(error, _expected_errors()):
            if isinstance(error, OSError) and error.filename and str(error.filename) not in message:
                message = f"{error.filename}: {message}"
            print(f"mlkit: error: {message}", file=sys.stderr)
            return EXIT_USAGE
        print(f"mlkit: internal error: {type(error).__name__}: {message} (rerun with --debug for the traceback)",
              file=sys.stderr)
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
