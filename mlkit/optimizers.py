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


@keras.saving.register_keras_serializable(package="mlkit")
class StepDecay(keras.optimizers.schedules.LearningRateSchedule):
    """α_t = α0 · factor^⌊t / step_size⌋: the learning rate drops by `factor` every `step_size` steps."""

    def __init__(self, initial_learning_rate, step_size, factor=0.1):
        self.initial_learning_rate = float(initial_learning_rate)
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"`step_size` must be a positive integer, got {step_size!r}.")
        if not 0 < factor <= 1:
            raise ValueError(f"`factor` must be in (0, 1], got {factor!r}.")
        self.step_size, self.factor = step_size, float(factor)

    def __call__(self, step):
        drops = ops.floor(ops.cast(step, "float32") / self.step_size)
        return self.initial_learning_rate * ops.power(self.factor, drops)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "step_size": self.step_size,
                "factor": self.factor}


@keras.saving.register_keras_serializable(package="mlkit")
class NaturalExponentialDecay(keras.optimizers.schedules.LearningRateSchedule):
    """α_t = α0 · e^(−k t), the notes' exponential decay (Keras' ExponentialDecay is α0 · r^(t/s))."""

    def __init__(self, initial_learning_rate, rate):
        if not rate >= 0:
            raise ValueError(f"`rate` must be non-negative, got {rate!r}.")
        self.initial_learning_rate, self.rate = float(initial_learning_rate), float(rate)

    def __call__(self, step):
        return self.initial_learning_rate * ops.exp(-self.rate * ops.cast(step, "float32"))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "rate": self.rate}


SCHEDULE_NAMES = ("cosine", "cosine_warmup", "step", "exponential", "inverse_time", "plateau")
CUSTOM_SCHEDULES = {"StepDecay": StepDecay, "NaturalExponentialDecay": NaturalExponentialDecay}


def named_schedule(name, learning_rate, total_steps):
    """A schedule by name over a run of `total_steps` (the settings a config gets from one word):

    - "cosine": cosine decay to 0; "cosine_warmup": linear warm-up over the first 5 %, then cosine;
    - "step": ×0.1 at a third and two thirds of the run; "exponential": α0 e^(−kt), 1 % of α0 at the end;
    - "inverse_time": α0 / (1 + kt), 10 % of α0 at the end;
    - "plateau": a constant rate that `fit` lowers ×0.5 after 2 epochs without improvement
      (keras.callbacks.ReduceLROnPlateau); returns None here.
    """
    import math

    if name == "plateau":
        return None
    if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1:
        raise ValueError(f"`schedule` {name!r} needs the run's total number of steps (total_steps).")
    schedules = keras.optimizers.schedules
    if name == "cosine":
        return schedules.CosineDecay(learning_rate, decay_steps=total_steps)
    if name == "cosine_warmup":
        warmup = max(1, total_steps // 20)
        return schedules.CosineDecay(0.0, decay_steps=max(1, total_steps - warmup), warmup_target=learning_rate,
                                     warmup_steps=warmup)
    if name == "step":
        return StepDecay(learning_rate, step_size=max(1, math.ceil(total_steps / 3)), factor=0.1)
    if name == "exponential":
        return NaturalExponentialDecay(learning_rate, rate=math.log(100) / total_steps)
    if name == "inverse_time":
        return schedules.InverseTimeDecay(learning_rate, decay_steps=total_steps, decay_rate=9.0)
    raise ValueError(f"`schedule` must be one of {', '.join(SCHEDULE_NAMES)} or a {{'class_name', 'config'}} dict; "
                     f"got {name!r}.")
