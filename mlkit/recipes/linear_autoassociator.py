"""The linear autoassociator spans PCA's subspace (SPEC §5–6; Baldi & Hornik 1989): a linear
autoencoder with k = 10 code units trained with MSE on scikit-learn's 8×8 digits, against
`mlkit.unsupervised.PCA` with 10 components.

Its decoder kernel need not equal the principal axes (any basis of the same subspace reconstructs
as well), so what is compared is the subspace: the ten principal angles between the decoder's
row space and PCA's top-10 components, the largest of which must be ≤ 5°, and the reconstruction
MSE of both. The digits are centred first, as PCA centres them (the biases could learn the mean,
but gradient descent learns it slowly).
"""


import matplotlib.pyplot as plt
import numpy as np
import scipy.linalg

from mlkit.data.pipeline import array_dataset
from mlkit.models import autoencoder
from mlkit.plotting import plot_image_rows, save_figure
from mlkit.training import OPTIMIZER_DEFAULTS, fit, start_run
from mlkit.unsupervised import PCA

DESCRIPTION = "Linear autoencoder (k=10) on 8x8 digits spans PCA's top-10 subspace: principal angles, MSE."

DEFAULTS = {
    **OPTIMIZER_DEFAULTS,
    "learning_rate": 3e-3,
    "schedule": "cosine",
    "epochs": 300,
    "batch_size": 64,
    "code_size": 10,
    "max_angle_degrees": 5.0,  # the claim checked
}


def run(config=None, overwrite=False):
    from sklearn.datasets import load_digits

    with start_run("linear_autoassociator", DEFAULTS, config, overwrite) as run:
        config = run.config
        digits = (load_digits().data / 16.0).astype("float32")
        centred = digits - digits.mean(axis=0)
        k = config["code_size"]
        with run.strategy.scope():
            model = autoencoder(input_shape=(digits.shape[1],), code_size=k, activation="linear",
                                code_activation="linear", output_activation="linear", name="linear_autoassociator")
            model.compile(optimizer=run.optimizer(total_steps=run.total_steps(len(centred))),
                          loss=model.reconstruction_loss)
        run.record_model("model", model)
        best, history = fit(model, array_dataset(centred, centred, run.global_batch_size, shuffle=True,
                                                 seed=config["seed"]), None, run, config["epochs"])

        pca = PCA(n_components=k).fit(centred)
        decoder_kernel = np.asarray(best.decoder.get_layer("reconstruction").kernel, "float64")  # (k, 64)
        angles = np.degrees(scipy.linalg.subspace_angles(decoder_kernel.T, np.asarray(pca.components_, "float64").T))
        angles = np.sort(angles)
        autoencoder_mse = float(np.mean((best.predict(centred, batch_size=512, verbose=0) - centred) ** 2))
        pca_mse = pca.reconstruction_error(centred)

        figure, axis = plt.subplots(figsize=(5, 3.5))
        axis.bar(range(1, k + 1), angles)
        axis.axhline(config["max_angle_degrees"], color="tab:red", linestyle="--", label="5°")
        axis.set_xlabel("principal angle")
        axis.set_ylabel("degrees")
        axis.set_title("decoder row space vs PCA top-10")
        axis.legend()
        save_figure(figure, run.path / "plots" / "principal_angles.png")
        # the decoder's basis, orthonormalised, next to PCA's axes (same subspace, rotated basis)
        basis = np.linalg.qr(decoder_kernel.T)[0].T
        plot_image_rows({"PCA axes": pca.components_.reshape(k, 8, 8), "AE basis": basis.reshape(k, 8, 8)},
                        run.path / "plots" / "bases.png", title="same subspace, different bases")

        metrics = {
            "images": int(len(digits)),
            "code_size": k,
            "principal_angles_degrees": angles.tolist(),
            "largest_angle_degrees": float(angles.max()),
            "spans_pca_subspace": bool(angles.max() <= config["max_angle_degrees"]),
            "autoencoder_mse": autoencoder_mse,
            "pca_mse": float(pca_mse),
            "mse_ratio_to_pca": autoencoder_mse / float(pca_mse),
            "epochs_run": int(len(history)),
        }
        return run.finish(metrics, exports={"encoder": best.encoder, "decoder": best.decoder},
                          sample={"encoder": centred[:8], "decoder": best.encoder.predict(centred[:8], verbose=0)})
