"""mlkit: Keras 3 / TensorFlow applied-modelling toolkit.

Importing the package registers every custom layer with Keras, so saved
`.keras` files load with `safe_mode=True` after `import mlkit`.
"""

import os

__version__ = "0.1.0"

# Hide TensorFlow's C++ INFO start-up lines unless the user asked for them.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")

from mlkit import layers, losses, optimizers  # noqa: F401  (registers serializable custom objects)
from mlkit import models  # noqa: F401
