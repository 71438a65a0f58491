"""The `mlkit` commands; parsing and error reporting are in `mlkit_cli` (no TensorFlow needed there).

Every destination is checked before any work: nothing the user did not get from
mlkit is replaced, and an mlkit file or export only with --overwrite.
"""

import json
import sys
from pathlib import Path

from mlkit.errors import MlkitError


def run_command(args):
    commands = {"recipes": _recipes, "run": _run, "export": _export, "predict": _predict, "sample": _sample,
                "rl": _rl_play, "style-transfer": _style_transfer, "tune": _tune, "xps": _xps}
    return commands[args.command](args)


def _recipes(args):
    from mlkit.recipes import list_recipes

    for name, description in list_recipes():
        print(f"{name:20s} {description}")
    return 0


def _run(args):
    from mlkit.recipes import get_recipe

    recipe = get_recipe(args.recipe)
    overrides = dict(args.overrides)
    for key in ("epochs", "batch_size", "strategy", "out", "seed", "data", "precision"):
        if getattr(args, key) is not None:
            overrides[key] = getattr(args, key)
    if args.full:
        overrides["full"] = True
    if args.tensorboard:
        overrides["tensorboard"] = True
    metrics = recipe.run(overrides, overwrite=args.overwrite)
    print(json.dumps(metrics, indent=2, default=str))
    return 0


def load_keras_model(path):
    """A `.keras` file loaded with safe_mode; a corrupt or truncated file is one ValueError naming it."""
    import zipfile

    import keras

    if not Path(path).is_file():
        raise ValueError(f"cannot load {path}: no such file")
    if not zipfile.is_zipfile(path):  # Keras would call this "File not found"
        raise ValueError(f"cannot load {path}: not a .keras (zip) file; it is damaged or truncated")
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # noqa: BLE001  (zip, h5py and Keras raise many kinds for damaged files)
        lines = str(error).strip().splitlines()
        raise ValueError(f"cannot load {path}: {type(error).__name__}: {lines[0] if lines else ''}") from None


def _export(args):
    from mlkit.io import check_directory_destination, read_json
    from mlkit.models import GAN
    from mlkit.serving import GENERATOR_METADATA, generator_metadata
    from mlkit.training import export_model
    from mlkit.training.run_directory import RunDirectory, RunLock

    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        raise MlkitError(f"{run_dir} is not a directory")
    models = {"model": run_dir / "model.keras"} if (run_dir / "model.keras").is_file() else {
        path.parent.name: path for path in sorted(run_dir.glob("*/model.keras"))}
    if not models:
        raise MlkitError(f"no model.keras in {run_dir} (nor in its model folders)")
    if args.out and len(models) > 1:
        raise MlkitError(f"{run_dir} holds {len(models)} models ({', '.join(models)}); export them without --out")
    targets = {name: Path(args.out) if args.out else run_dir / "export" / name for name in models}
    for target in targets.values():  # every destination checked before any work
        check_directory_destination(target, "export", replace=args.overwrite)
    lock = RunLock(run_dir).acquire() if RunDirectory.is_run(run_dir) else None
    try:
        for name, model_path in models.items():
            model = load_keras_model(model_path)
            previous = run_dir / "export" / name / "serving.json"
            input_range = read_json(previous).get("input_range") if previous.is_file() else None
            extra_files = None
            if isinstance(model, GAN):  # what is served is the generator: noise → image
                model, extra_files = model.generator, {GENERATOR_METADATA: generator_metadata(model.generator)}
            export_model(model, targets[name], input_range=input_range, replace=args.overwrite, extra_files=extra_files)
            print(f"exported {model_path} to {targets[name]} (reloaded outputs verified)")
    finally:
        if lock is not None:
            lock.release()
    return 0


def _predict(args):
    import numpy as np

    from mlkit.serving import check_output_type, load_saved_model, read_examples, read_texts, write_predictions

    if args.output:
        _check_output_file(Path(args.output), args.overwrite)
    served = load_saved_model(args.model_dir)
    if args.output:  # the file type before any work
        check_output_type(args.output, served.takes_text)
    if served.takes_text:  # strings in, strings out (e.g. the addition recipe's "123+456" → "579")
        answers = served.predict_texts(*read_texts(args.input))
        if args.output:
            write_predictions(args.output, answers, replace=args.overwrite)
        else:
            sys.stdout.write("".join(f"{answer}\n" for answer in answers))
        return 0
    examples = read_examples(args.input, served.input_shape)
    served.check_range(examples, args.input)
    predictions = served.predict_array(examples)
    if args.output:
        write_predictions(args.output, predictions, replace=args.overwrite)
    else:
        np.savetxt(sys.stdout, predictions.reshape(len(predictions), -1), delimiter=",", fmt="%.6g")
    return 0


def _sample(args):
    import numpy as np

    from mlkit.plotting import plot_image_grid
    from mlkit.serving import load_generator

    _check_output_file(Path(args.out), args.overwrite)
    served, generator = load_generator(args.model_dir)
    noise = np.random.default_rng(args.seed).standard_normal((args.n, generator["latent_dim"])).astype("float32")
    images = served.predict(noise)
    low, high = generator["output_range"]
    plot_image_grid((images - low) / (high - low), Path(args.out), columns=args.columns, replace=args.overwrite)
    print(f"{args.n} images from {served.path} (seed {args.seed}) → {args.out}")
    return 0


def _rl_play(args):
    from mlkit.plotting import write_gif
    from mlkit.rl.play import play
    from mlkit.serving import load_policy

    if args.render_gif:
        _check_output_file(Path(args.render_gif), args.overwrite)
    served, policy = load_policy(args.model_dir)
    returns, lengths, frames, fps = play(served, policy["environment"], args.episodes, seed=args.seed,
                                         record_first=bool(args.render_gif))
    for episode, (total, length) in enumerate(zip(returns, lengths)):
        print(f"episode {episode + 1} (seed {args.seed + episode}): return {total:g} in {length} steps")
    print(f"{policy['environment']}: mean return {returns.mean():.1f} over {args.episodes} episodes "
          f"(min {returns.min():g}, max {returns.max():g})")
    if args.render_gif:
        write_gif(frames, Path(args.render_gif), fps=fps, scale=2, replace=args.overwrite)
        print(f"episode 1 ({len(frames)} frames) → {args.render_gif}")
    return 0


def _tune(args):
    from mlkit.training.tuning import tune

    table = tune(args.recipe, args.tuner, args.trials, out=args.out, overrides=args.overrides, seed=args.seed)
    best = table.iloc[0]
    print(f"best: trial {int(best['trial'])} → {best['run_directory']}")
    return 0


def _style_transfer(args):
    from mlkit.models.style import describe_features
    from mlkit.style import StyleTransfer, load_image, save_image

    _check_output_file(Path(args.out), args.overwrite)
    weights = args.weights or "imagenet"
    transfer = StyleTransfer(args.network, weights=None if args.network == "random_multiscale" else weights,
                             content_weight=args.content_weight, style_weight=args.style_weight,
                             tv_weight=args.tv_weight, optimizer=args.optimizer, init=args.init, seed=args.seed)
    content = load_image(args.content, args.size, transfer.minimum_size, name="content")
    style = load_image(args.style, None, transfer.minimum_size, name="style")
    print(f"features: {describe_features(args.network, weights)}; {content.shape[1]}×{content.shape[0]} px")
    image, history = transfer.transfer(content, style, steps=args.steps, rounds=min(10, args.steps))
    save_image(image, args.out, replace=args.overwrite)
    last = history.iloc[-1]
    print(f"loss {last['loss']:.4g} (content {last['content']:.4g}, style {last['style']:.4g}) → {args.out}")
    return 0


def _check_output_file(path, overwrite, create_folder=False):
    """Refuse before any work: a directory, an existing file without --overwrite, a missing or read-only folder.

    With `create_folder`, a missing folder is fine if it can be made (its nearest existing parent is writable).
    """
    import os

    if path.is_dir():
        raise MlkitError(f"{path} is a directory; give a file name for the output")
    if path.exists() and not overwrite:
        raise MlkitError(f"{path} already exists; pass --overwrite to replace it")
    folder = path.parent
    if not folder.is_dir() and create_folder:
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
    if not folder.is_dir():
        raise MlkitError(f"{folder} does not exist (or is not a folder)")
    if not os.access(folder, os.W_OK):
        raise MlkitError(f"{folder} is not writable")


def _xps(args):
    return {"simulate": _xps_simulate, "predict": _xps_predict}[args.xps_command](args)


def _xps_simulate(args):
    from mlkit.xps import XPSSimulator, write_shards

    try:
        simulator = XPSSimulator(**args.settings)
    except TypeError as error:  # an unknown setting name
        raise ValueError(str(error).replace("__init__()", "XPSSimulator")) from None
    manifest = write_shards(simulator, args.n, args.out, seed=args.seed, shard_size=args.shard_size, dtype=args.dtype)
    rate = manifest["count"] / max(manifest["seconds"], 1e-9)
    print(f"wrote {manifest['count']} spectra in {len(manifest['shards'])} shard(s) to {args.out} "
          f"({manifest['seconds']:.1f} s, {rate:.0f} spectra/s)")
    return 0


def plot_names(paths, blocks=None):
    """One PNG name per spectrum; files of the same name from different folders get the folder too,
    and blocks of multi-block files their block number (`blocks`: (index, count) per path)."""
    blocks = blocks or [(1, 1)] * len(paths)
    names = [Path(path).name for path in paths]
    result = []
    for path, name, (index, count) in zip(paths, names, blocks):
        if len({p for p, n in zip(paths, names) if n == name}) > 1:
            parts = Path(path).resolve().parts
            name = "_".join(parts[-2:]) if len(parts) > 1 else name
        result.append(f"{name}.block{index}.png" if count > 1 else f"{name}.png")
    if len(set(result)) != len(result):  # the same file given twice
        result = [f"{index + 1:02d}_{name}" for index, name in enumerate(result)]
    return result


def _xps_predict(args):
    from mlkit.xps import load_xps_ensemble
    from mlkit.xps.refinement import MAX_MISFIT

    folder = Path(args.plot) if args.plot else None
    if folder is not None and folder.exists() and not folder.is_dir():
        raise MlkitError(f"--plot {folder} is a file; give a folder")
    model = load_xps_ensemble([args.model, *args.ensemble])
    if args.ensemble:
        print(f"ensemble of {1 + len(args.ensemble)} models, outputs averaged")
    files = []
    for path in args.spectra:  # every file read and checked before any output
        prepared = model.prepare_file(path, args.energy_scale)
        if all(block.skipped for block in prepared):
            if len(prepared) == 1:
                raise ValueError(f"{Path(path).name}: {prepared[0].skipped}")
            reasons = "; ".join(f"block {block.spectrum.index} ({block.spectrum.name}): {block.skipped}"
                                for block in prepared)
            raise ValueError(f"{Path(path).name}: no survey to quantify: {reasons}")
        files.append(prepared)
    answered = [block for prepared in files for block in prepared if not block.skipped]
    targets = []
    if folder is not None:
        names = plot_names([block.spectrum.path for block in answered],
                           [(block.spectrum.index, block.spectrum.blocks) for block in answered])
        targets = [folder / name for name in names]
        for target in targets:
            _check_output_file(target, args.overwrite, create_folder=True)
    inputs = [block.input for block in answered]
    if model.has_uncertainty:
        fractions, spreads, thickness = model.predict_with_uncertainty(inputs)
    else:
        (fractions, thickness), spreads = model.predict(inputs), None
    refined, _, refined_thickness, misfit = model.refine(inputs) if args.refine else (None,) * 4
    position = 0
    for path, prepared in zip(args.spectra, files):
        print(f"{path}")
        for block in prepared:
            if block.skipped:
                print(f"  {block.label}: skipped, {block.skipped}")
                continue
            if block.spectrum.blocks > 1:
                print(f"  {block.label}")
            print(f"  {block.reference.describe()}")
            for note in block.notes:
                print(f"  note: {note}")
            _print_quantification(fractions[position], None if thickness is None else thickness[position],
                                  model.elements, args.threshold, None if spreads is None else spreads[position])
            if refined is not None:
                print("  refined by a full-spectrum fit of the simulator (its elements from the answer above):")
                _print_quantification(refined[position], refined_thickness[position], model.elements, args.threshold)
                if misfit[position] > MAX_MISFIT:
                    print(f"  note: the fit leaves {misfit[position]:,.0f}× the counting noise (structure the "
                          "simulator lacks), so it only re-weights the elements the network found")
            position += 1
    if targets:
        from mlkit.xps.overlay import simulated_prediction
        from mlkit.xps.report import plot_quantification

        for index, (block, target) in enumerate(zip(answered, targets)):
            block_thickness = None if thickness is None else thickness[index]
            simulated, residual = simulated_prediction(model.simulator, block.input, fractions[index], block_thickness)
            plot_quantification(model.binding_energy, block.input, fractions[index], model.elements,
                                args.threshold, target, title=block.label, thickness=block_thickness,
                                replace=args.overwrite, simulated=simulated, residual=residual,
                                spreads=None if spreads is None else spreads[index])
            print(f"plot: {target}")
    return 0


def _print_quantification(fractions, thickness, elements, threshold, spreads=None):
    import numpy as np

    order = np.argsort(-fractions)
    shown = [index for index in order if 100 * fractions[index] >= threshold]
    print("  element   at.%" + ("   ±1σ" if spreads is not None else ""))
    for index in shown:
        spread = f"  ± {100 * spreads[index]:4.1f}" if spreads is not None else ""
        print(f"  {elements[index]:<7s} {100 * fractions[index]:6.1f}{spread}")
    if not shown:
        print(f"  (no element at or above {threshold:g} at.%)")
    if thickness is not None:
        print(f"  carbon overlayer thickness: {thickness:.1f} Å")


if __name__ == "__main__":
    import mlkit_cli

    sys.exit(mlkit_cli.main())
