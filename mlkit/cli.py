"""The `mlkit` command: list and run recipes, export run directories, predict.

Every failure the user can cause (unknown recipe, missing file, wrong shape,
NaN input) ends with one line on stderr and exit status 2, no traceback.
"""

import argparse
import json
import sys
from pathlib import Path

EXIT_USAGE = 2


class CommandError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of usage + error
        raise CommandError(f"{message} (see `{self.prog} --help`)")


def _parse_assignment(text):
    if "=" not in text:
        raise CommandError(f"--set expects KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value  # a bare string


def build_parser():
    parser = _Parser(prog="mlkit", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    commands.add_parser("recipes", help="list the recipes with one-line descriptions")

    run = commands.add_parser("run", help="run a recipe into a run directory")
    run.add_argument("recipe")
    run.add_argument("--epochs", type=int)
    run.add_argument("--batch-size", type=int, help="per replica")
    run.add_argument("--strategy", choices=["auto", "default", "mirrored", "tpu"])
    run.add_argument("--out", help="run directory (an interrupted one resumes); default runs/RECIPE/TIMESTAMP")
    run.add_argument("--seed", type=int)
    run.add_argument("--precision", choices=["float32", "mixed_bfloat16", "mixed_float16", "auto"],
                     help="dtype policy; auto: bfloat16 on CPUs with AMX/AVX512-BF16, float16 on GPUs")
    run.add_argument("--data", metavar="DIR", help="the recipe's input data (cats_dogs: one folder per class)")
    run.add_argument("--full", action="store_true", help="paper-scale settings (recipes that have them, e.g. xps)")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="any other recipe setting; VALUE is JSON or a string (repeatable)")

    export = commands.add_parser("export", help="export RUN_DIR/model.keras as a SavedModel")
    export.add_argument("run_dir")
    export.add_argument("--out", help="SavedModel directory (default RUN_DIR/export)")

    predict = commands.add_parser("predict", help="predict with an exported SavedModel")
    predict.add_argument("model_dir", help="a SavedModel directory, or a run directory with export/")
    predict.add_argument("input", help=".npy or .csv file of examples")
    predict.add_argument("--output", help="write predictions to this .csv or .npy instead of stdout")

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
    quantify = xps_commands.add_parser("predict", help="elements (at.%%) and overlayer thickness of spectra")
    quantify.add_argument("model", help="exported XPS model (run directory or its export/)")
    quantify.add_argument("spectra", nargs="+", help="two-column text/CSV (energy, counts) or VAMAS .vms files")
    quantify.add_argument("--energy-scale", choices=["binding", "kinetic"], default="binding",
                          help="abscissa of text files (VAMAS files say it themselves)")
    quantify.add_argument("--threshold", type=float, default=1.0, help="list elements at or above this at.%%")
    quantify.add_argument("--plot", metavar="DIR", help="save one PNG per spectrum into DIR")
    return parser


def main(argv=None):
    try:
        args = build_parser().parse_args(argv)
        commands = {"recipes": _recipes, "run": _run, "export": _export, "predict": _predict, "xps": _xps}
        return commands[args.command](args)
    except (CommandError, ValueError, FileNotFoundError) as error:
        print(f"mlkit: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mlkit: interrupted", file=sys.stderr)
        return 130


def _recipes(args):
    from recipes import list_recipes

    for name, description in list_recipes():
        print(f"{name:18s} {description}")
    return 0


def _run(args):
    from recipes import get_recipe

    recipe = get_recipe(args.recipe)  # fail fast, before any flag is applied
    overrides = dict(_parse_assignment(item) for item in args.set)
    for key in ("epochs", "batch_size", "strategy", "out", "seed", "data", "precision"):
        if getattr(args, key) is not None:
            overrides[key] = getattr(args, key)
    if args.full:
        overrides["full"] = True
    metrics = recipe.run(overrides)
    print(json.dumps(metrics, indent=2, default=str))
    return 0


def _export(args):
    import keras

    import mlkit  # noqa: F401  (registers custom layers)
    from mlkit.training import export_model

    run_dir = Path(args.run_dir)
    model_path = run_dir / "model.keras"
    if not model_path.is_file():
        raise CommandError(f"no model.keras in {run_dir}")
    model = keras.saving.load_model(model_path, safe_mode=True)
    target = Path(args.out) if args.out else run_dir / "export"
    export_model(model, target)
    print(f"exported {model_path} to {target} (reloaded outputs verified)")
    return 0


def _predict(args):
    import numpy as np

    from mlkit.serving import load_saved_model, read_examples

    model_dir = Path(args.model_dir)
    if (model_dir / "export" / "saved_model.pb").is_file():
        model_dir = model_dir / "export"
    served = load_saved_model(model_dir)
    examples = read_examples(args.input, served.input_shape)
    predictions = served.predict_array(examples)
    if args.output:
        from mlkit.serving import write_predictions

        write_predictions(args.output, predictions)
    else:
        np.savetxt(sys.stdout, predictions.reshape(len(predictions), -1), delimiter=",", fmt="%.6g")
    return 0


def _xps(args):
    return {"simulate": _xps_simulate, "predict": _xps_predict}[args.xps_command](args)


def _xps_simulate(args):
    from mlkit.xps import XPSSimulator, write_shards

    settings = dict(_parse_assignment(item) for item in args.set)
    try:
        simulator = XPSSimulator(**settings)
    except TypeError as error:  # an unknown setting name
        raise CommandError(str(error).replace("__init__()", "XPSSimulator")) from None
    manifest = write_shards(simulator, args.n, args.out, seed=args.seed, shard_size=args.shard_size, dtype=args.dtype)
    rate = manifest["count"] / max(manifest["seconds"], 1e-9)
    print(f"wrote {manifest['count']} spectra in {len(manifest['shards'])} shard(s) to {args.out} "
          f"({manifest['seconds']:.1f} s, {rate:.0f} spectra/s)")
    return 0


def _xps_predict(args):
    from mlkit.xps import load_xps_model

    if not 0 <= args.threshold <= 100:
        raise CommandError(f"--threshold is in at.%, between 0 and 100; got {args.threshold}")
    model = load_xps_model(args.model)
    spectra = [model.prepare(path, args.energy_scale) for path in args.spectra]  # all checked before any output
    fractions, thickness = model.predict(spectra)
    for index, path in enumerate(args.spectra):
        print(f"{path}")
        _print_quantification(fractions[index], None if thickness is None else thickness[index],
                              model.elements, args.threshold)
    if args.plot:
        from mlkit.xps.report import plot_quantification

        for index, path in enumerate(args.spectra):
            target = Path(args.plot) / f"{Path(path).name}.png"
            plot_quantification(model.binding_energy, spectra[index], fractions[index], model.elements,
                                args.threshold, target, title=Path(path).name,
                                thickness=None if thickness is None else thickness[index])
            print(f"plot: {target}")
    return 0


def _print_quantification(fractions, thickness, elements, threshold):
    import numpy as np

    order = np.argsort(-fractions)
    shown = [index for index in order if 100 * fractions[index] >= threshold]
    print("  element   at.%")
    for index in shown:
        print(f"  {elements[index]:<7s} {100 * fractions[index]:6.1f}")
    if not shown:
        print(f"  (no element at or above {threshold:g} at.%)")
    if thickness is not None:
        print(f"  carbon overlayer thickness: {thickness:.1f} Å")


if __name__ == "__main__":
    sys.exit(main())
