"""Learning to add from text (keras-io's addition_rnn; SPEC §7): "123+456" → "579" with a
character-level `Seq2Seq`, measured by exact match of the whole answer on held-out questions.

50k distinct questions a+b (1 to `digits` digits each; a+b and b+a count once) are split into
training, validation and `test_size` held-out questions. Every variant of the grid cells ×
attention × reversal trains on the same split with the same budget; reversal reads the question
backwards (Sutskever et al. 2014). The answer is decoded greedily from the start token, so one
wrong digit makes the whole answer wrong. keras-io reports per-character accuracy, a weaker
measure, which is reported too. Each variant is exported as a SavedModel that takes and returns
strings: `mlkit predict RUN/export/lstm-reversed 123+456` prints 579.
"""

import itertools

import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from mlkit.data.pipeline import finish_pipeline
from mlkit.data.text import CharacterVocabulary, addition_problem
from mlkit.models import seq2seq
from mlkit.models.seq2seq import SEQ2SEQ_CELLS
from mlkit.plotting import save_figure
from mlkit.training import OPTIMIZER_DEFAULTS, fit, start_run

DESCRIPTION = "Addition from text (\"123+456\" → \"579\"): seq2seq LSTM/GRU/peephole ± attention ± reversal."
VOCABULARY = "0123456789+"

DEFAULTS = {
    **OPTIMIZER_DEFAULTS,
    "schedule": "cosine",  # the last epochs at a small learning rate: whole answers right, not just most digits
    "epochs": 20,
    "batch_size": 32,  # keras-io's
    "digits": 3,
    "pairs": 50_000,
    "validation_size": 2500,
    "test_size": 5000,
    "units": 128,
    "embedding_dim": 16,
    "cells": ["lstm", "gru", "peephole"],
    "attention": [False, True],
    "reverse": [True, False],
    "goal_exact_match": 0.99,
    "early_stopping_patience": None,
    "jit_compile": "auto",  # XLA on a CPU-only machine: faster recurrent training steps
}


def variant_name(cell, attention, reverse):
    return cell + ("-attention" if attention else "") + ("-reversed" if reverse else "")


def encode_split(vocabulary, questions, answers, digits, reverse):
    """Source tokens (n, 2·digits+1), decoder input (start + answer) and target (answer + end)."""
    source = vocabulary.encode(questions, length=2 * digits + 1, reverse=reverse)
    target_in = vocabulary.encode(answers, length=digits + 2, start=True)
    target_out = vocabulary.encode(answers, length=digits + 2, end=True)
    return source, target_in, target_out


def training_dataset(split, batch_size, shuffle=False, seed=0):
    source, target_in, target_out = split
    dataset = tf.data.Dataset.from_tensor_slices(((source, target_in), target_out))
    return finish_pipeline(dataset, batch_size, shuffle=shuffle, seed=seed)


def answer_scores(model, source, answers, digits, batch_size=1000):
    """Exact match of the whole greedy answer, and keras-io's per-character accuracy (answers padded
    with spaces to digits + 1 characters)."""
    vocabulary = model.characters
    predicted = []
    for start in range(0, len(source), batch_size):
        predicted += vocabulary.decode(np.asarray(model.greedy_tokens(source[start:start + batch_size])))
    exact = float(np.mean([guess == truth for guess, truth in zip(predicted, answers)]))
    width = digits + 1
    characters = float(np.mean([guess[:width].ljust(width)[i] == truth.ljust(width)[i]
                                for guess, truth in zip(predicted, answers) for i in range(width)]))
    return exact, characters, predicted


def run(config=None, overwrite=False):
    with start_run("addition", DEFAULTS, config, overwrite, check=_check) as run:
        config = run.config
        digits, seed, batch = config["digits"], config["seed"], run.global_batch_size
        vocabulary = CharacterVocabulary(VOCABULARY)
        questions, answers = addition_problem(config["pairs"], digits, seed=seed)
        held_out = config["validation_size"] + config["test_size"]
        split_at = {"train": slice(0, len(questions) - held_out),
                    "validation": slice(len(questions) - held_out, len(questions) - config["test_size"]),
                    "test": slice(len(questions) - config["test_size"], len(questions))}
        lengths = [len(question) for question in questions[split_at["train"]]]

        encoded = {reverse: {part: encode_split(vocabulary, questions[where], answers[where], digits, reverse)
                             for part, where in split_at.items()} for reverse in set(config["reverse"])}
        test_questions, test_answers = questions[split_at["test"]], answers[split_at["test"]]

        results, histories, exports, examples = {}, {}, {}, {}
        for cell, attention, reverse in itertools.product(config["cells"], config["attention"], config["reverse"]):
            name = variant_name(cell, attention, reverse)
            splits = encoded[reverse]
            with run.strategy.scope():
                model = seq2seq(vocabulary=VOCABULARY, units=config["units"], embedding_dim=config["embedding_dim"],
                                cell=cell, attention=attention, reverse_source=reverse,
                                max_output_length=digits + 2, name=name.replace("-", "_"))
                model.compile(optimizer=run.optimizer(total_steps=run.total_steps(len(splits["train"][0]))),
                              loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                              jit_compile=run.jit_compile)
            run.record_model(name, model)
            best, history = fit(model, training_dataset(splits["train"], batch, shuffle=True, seed=seed),
                                training_dataset(splits["validation"], batch), run.child(name), config["epochs"],
                                early_stopping_patience=config["early_stopping_patience"])
            exact, per_character, predicted = answer_scores(best, splits["test"][0], test_answers, digits)
            results[name] = {"cell": cell, "attention": attention, "reversed": reverse,
                             "test_exact_match": exact, "test_per_character_accuracy": per_character,
                             "reaches_goal": exact >= config["goal_exact_match"],
                             "epochs_run": int(len(history)), "parameters": int(best.count_params())}
            examples[name] = [f"{q} = {truth}: {guess}" for q, truth, guess
                              in zip(test_questions, test_answers, predicted) if guess != truth][:10]
            histories[name], exports[name] = history, best

        _plot_learning_curves(histories, results, run.path / "plots" / "learning_curves.png")
        metrics = {"digits": digits, "train_size": len(lengths), "test_size": config["test_size"],
                   "variants": results, "wrong_answers": examples}
        return run.finish(metrics, exports=exports, sample=questions[split_at["test"]][:8],
                          input_range=(min(lengths), max(lengths)))


def _plot_learning_curves(histories, results, path):
    """Colour by cell, solid lines for reversed questions, round markers for attention."""
    colours = {"lstm": "tab:blue", "gru": "tab:red", "peephole": "tab:green"}
    figure, axis = plt.subplots(figsize=(8, 5))
    for name, history in histories.items():
        result = results[name]
        axis.plot(history["epoch"] + 1, 1 - history["val_accuracy"], color=colours[result["cell"]],
                  linestyle="-" if result["reversed"] else "--", marker="o" if result["attention"] else ".",
                  markersize=4, label=f"{name} (exact {100 * result['test_exact_match']:.1f} %)")
    axis.set_yscale("log")
    axis.set_xlabel("epoch")
    axis.set_ylabel("validation token error (teacher forced)")
    axis.set_title("addition: seq2seq variants")
    axis.legend(fontsize=7)
    save_figure(figure, path)


def _check(config):
    unknown = [cell for cell in config["cells"] if cell not in SEQ2SEQ_CELLS]
    if unknown or not config["cells"]:
        raise ValueError(f"`cells` must be a non-empty list from {list(SEQ2SEQ_CELLS)}, got {config['cells']!r}.")
    for key in ("attention", "reverse"):
        if not config[key] or not all(isinstance(value, bool) for value in config[key]):
            raise ValueError(f"`{key}` must be a non-empty list of true/false, got {config[key]!r}.")
    if config["validation_size"] + config["test_size"] >= config["pairs"]:
        raise ValueError(f"`pairs`={config['pairs']} leaves no training questions after "
                         f"{config['validation_size']} validation and {config['test_size']} test ones.")
    if not 0 < config["goal_exact_match"] <= 1:
        raise ValueError(f"`goal_exact_match` is a fraction in (0, 1], got {config['goal_exact_match']!r}.")
