"""Optimizers Keras lacks (SPEC §2)."""

import keras
from keras import ops

from mlkit.validation import check_rate


@keras.saving.register_keras_serializable(package="mlkit")
class NesterovRMSprop(keras.optimizers.Optimizer):
    """RMSProp with Nesterov momentum: Goodfellow, Bengio & Courville, Algorithm 8.6.

    Per step, with learning rate ε, decay ρ, momentum α and δ for numerical stability:

        g ← ∇L(θ + αv)            (the gradient at the interim, look-ahead point)
        r ← ρ r + (1 − ρ) g ⊙ g
        v ← α v − ε g / √(r + δ)
        θ ← θ + v

    Keras computes the gradient at the variable's value, so the variable holds the look-ahead point
    θ̃ = θ + αv (as Keras' own SGD with `nesterov=True` does); the update above becomes
    θ̃ ← θ̃ + (1 + α) v_new − α v_old. Keras' RMSprop has plain momentum only.

    Args:
        learning_rate: ε, a float or a `keras.optimizers.schedules.LearningRateSchedule`.
        rho: ρ, the decay of the squared-gradient average, in [0, 1).
        momentum: α, in [0, 1).
        epsilon: δ, added under the square root (Algorithm 8.5's form).
        **kwargs: the base Optimizer's (clipnorm, weight_decay, name, …).
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.9, epsilon=1e-7, name="nesterov_rmsprop",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho = check_rate("rho", rho)
        self.momentum = check_rate("momentum", momentum)
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not epsilon > 0:
            raise ValueError(f"`epsilon` must be a positive number, got {epsilon!r}.")
        self.epsilon = float(epsilon)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._mean_squares = self.add_optimizer_variables(var_list, "mean_square")
        self._velocities = self.add_optimizer_variables(var_list, "velocity")

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        index = self._get_variable_index(variable)
        mean_square, velocity = self._mean_squares[index], self._velocities[index]
        self.assign(mean_square, self.rho * mean_square + (1.0 - self.rho) * ops.square(gradient))
        new = self.momentum * velocity - learning_rate * gradient / ops.sqrt(mean_square + self.epsilon)
        # The variable's move reads the old velocity, so it comes before the velocity's assignment.
        self.assign_add(variable, (1.0 + self.momentum) * new - self.momentum * velocity)
        self.assign(velocity, new)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon}
