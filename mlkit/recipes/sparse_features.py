"""Sparse autoencoder features of natural-image patches (SPEC §6): 10×10 whitened patches, 100 sigmoid
code units, the KL sparsity penalty β Σ KL(ρ ‖ ρ̂_j) with ρ = 0.05 and the notes' ρ = 0.2.

Patches come from scikit-learn's two sample photographs (china.jpg, flower.jpg) in grey levels;
each patch loses its mean and the set is ZCA-whitened, as in the sparse-autoencoder exercise the
notes follow. The decoder is linear (whitened values are not in [0, 1]) and tied.

The notes' "input that maximises unit j" under ‖x‖ = 1 is x = W_j / ‖W_j‖, drawn for every unit.
What the filters look like is measured, not only drawn:
- localised: at least `LOCALISED_SHARE` of the filter's energy Σ w² lies in one 5×5 window
  (a random filter puts about a third there);
- oriented: the coherence (λ1 − λ2)/(λ1 + λ2) of the filter's gradient structure tensor is at
  least `ORIENTED_COHERENCE` (1 for a straight edge, 0 for no preferred direction);
- edge-like: both. The same measures of the untrained (random) filters are the reference.
"""


import numpy as np

from mlkit.data.pipeline import array_dataset
from mlkit.models import autoencoder
from mlkit.plotting import plot_filter_grid
from mlkit.training import OPTIMIZER_DEFAULTS, fit, start_run

DESCRIPTION = "Sparse autoencoder (KL penalty, rho 0.05 and 0.2) on whitened 10x10 natural-image patches: filters."

DEFAULTS = {
    **OPTIMIZER_DEFAULTS,
    "learning_rate": 3e-3,
    "epochs": 60,
    "batch_size": 256,
    "patch_size": 10,
    "patches": 20_000,  # half from each photograph
    "code_units": 100,
    "sparsities": [0.05, 0.2],  # ρ: the issue's 0.05 and the notes' 0.2
    # β and λ for Keras' per-value mean squared error: the exercise's β = 3-ish and λ = 3e-3 were set
    # against ½·Σ over the 100 values, 50× larger. β 0.06 left ρ̂ at 0.076; β 1.0 gave noise-like
    # filters; ε 0.01 whitened the noise up (measured on these patches).
    "sparsity_weight": 0.3,  # β
    "weight_decay": 3e-5,  # λ of λ Σ w²
    "whitening_epsilon": 0.1,  # ZCA: 1/sqrt(λ + ε), ε relative to the largest eigenvalue
    "early_stopping_patience": None,
}
LOCALISED_SHARE = 0.6
WINDOW = 5
ORIENTED_COHERENCE = 0.5


def whitened_patches(count, size, epsilon, seed):
    """(count, size²) ZCA-whitened grey patches without their means, from china.jpg and flower.jpg."""
    from sklearn.datasets import load_sample_images
    from sklearn.feature_extraction.image import extract_patches_2d

    images = load_sample_images().images
    rows = []
    for index, image in enumerate(images):
        grey = image.astype("float64").mean(axis=2) / 255.0
        patches = extract_patches_2d(grey, (size, size), max_patches=count // len(images), random_state=seed + index)
        rows.append(patches.reshape(len(patches), -1))
    patches = np.concatenate(rows)
    patches -= patches.mean(axis=1, keepdims=True)
    covariance = patches.T @ patches / len(patches)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    scale = 1.0 / np.sqrt(np.maximum(eigenvalues, 0.0) + epsilon * eigenvalues.max())
    zca = (eigenvectors * scale) @ eigenvectors.T
    return (patches @ zca).astype("float32")


def filter_measures(filters, size):
    """Per filter (rows): energy share of the best WINDOW×WINDOW window, and gradient coherence."""
    filters = np.asarray(filters, "float64").reshape(len(filters), size, size)
    energy = filters**2
    total = energy.sum(axis=(1, 2))
    windows = np.lib.stride_tricks.sliding_window_view(energy, (WINDOW, WINDOW), axis=(1, 2)).sum(axis=(-1, -2))
    share = windows.reshape(len(filters), -1).max(axis=1) / np.maximum(total, 1e-30)
    gy, gx = np.gradient(filters, axis=(1, 2))
    jxx, jyy, jxy = (gx * gx).sum(axis=(1, 2)), (gy * gy).sum(axis=(1, 2)), (gx * gy).sum(axis=(1, 2))
    coherence = np.sqrt((jxx - jyy) ** 2 + 4 * jxy**2) / np.maximum(jxx + jyy, 1e-30)
    return share, coherence


def summarise_filters(filters, size):
    share, coherence = filter_measures(filters, size)
    localised, oriented = share >= LOCALISED_SHARE, coherence >= ORIENTED_COHERENCE
    return {"localised_fraction": float(localised.mean()), "oriented_fraction": float(oriented.mean()),
            "edge_like_fraction": float((localised & oriented).mean()),
            "median_window_energy_share": float(np.median(share)), "median_coherence": float(np.median(coherence))}


def run(config=None, overwrite=False):
    with start_run("sparse_features", DEFAULTS, config, overwrite) as run:
        config = run.config
        size = config["patch_size"]
        patches = whitened_patches(config["patches"], size, config["whitening_epsilon"], config["seed"])
        order = np.random.default_rng(config["seed"]).permutation(len(patches))
        held_out = max(1, len(patches) // 10)
        validation, train = patches[order[:held_out]], patches[order[held_out:]]
        batch = run.global_batch_size
        results, exports, samples = {}, {}, {}
        for rho in config["sparsities"]:
            name = f"rho_{rho:g}"
            with run.strategy.scope():
                model = autoencoder(input_shape=(size * size,), code_size=config["code_units"],
                                    code_activation="sigmoid", output_activation="linear", tied=True,
                                    sparsity=rho, sparsity_weight=config["sparsity_weight"], overcomplete=True,
                                    weight_decay=config["weight_decay"],
                                    name=name)
                model.compile(optimizer=run.optimizer(total_steps=run.total_steps(len(train))),
                              loss=model.reconstruction_loss)
            run.record_model(name, model)
            initial = _unit_filters(model)
            best, history = fit(model, array_dataset(train, train, batch, shuffle=True, seed=config["seed"]),
                                array_dataset(validation, validation, batch), run.child(name), config["epochs"],
                                early_stopping_patience=config["early_stopping_patience"])
            filters = _unit_filters(best)
            activations = best.encoder.predict(patches, batch_size=1024, verbose=0).mean(axis=0)
            plot_filter_grid(filters, (size, size), run.path / "plots" / f"filters_{name}.png",
                             title=f"x = W_j/‖W_j‖ maximising each unit, ρ = {rho:g}")
            results[name] = {
                "sparsity": rho,
                "mean_activation": float(activations.mean()),
                "median_unit_activation": float(np.median(activations)),
                "units_within_25_percent_of_rho": float(np.mean(np.abs(activations - rho) <= 0.25 * rho)),
                "reconstruction_mse_validation": float(np.mean(
                    (best.predict(validation, batch_size=1024, verbose=0) - validation) ** 2)),
                "filters": summarise_filters(filters, size),
                "random_initial_filters": summarise_filters(initial, size),
                "epochs_run": int(len(history)),
            }
            exports.update({f"encoder_{name}": best.encoder, f"decoder_{name}": best.decoder})
            samples.update({f"encoder_{name}": validation[:8],
                            f"decoder_{name}": best.encoder.predict(validation[:8], verbose=0)})
        metrics = {"patches": int(len(patches)), "patch_size": size, "code_units": config["code_units"],
                   "measures": {"localised": f"≥ {LOCALISED_SHARE:g} of Σw² in one {WINDOW}×{WINDOW} window",
                                "oriented": f"gradient coherence ≥ {ORIENTED_COHERENCE:g}",
                                "edge_like": "localised and oriented"},
                   **results}
        return run.finish(metrics, exports=exports, sample=samples)


def _unit_filters(model):
    """x = W_j / ‖W_j‖ for every code unit j (rows)."""
    kernel = np.asarray(model.encoder.get_layer("code").kernel).T
    return kernel / np.maximum(np.linalg.norm(kernel, axis=1, keepdims=True), 1e-30)
