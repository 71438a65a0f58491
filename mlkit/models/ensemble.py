"""Ensembles of trained models (SPEC §2): averaging or voting, as one functional model to save or export."""

import keras

from mlkit.layers import MajorityVote
from mlkit.validation import check_choice

METHODS = ("average", "vote")


def ensemble(members, method="average", name="ensemble"):
    """One model whose output is the members' average (soft voting, or a regression mean) or their
    majority vote (`MajorityVote`: the share of members choosing each class).

    The members (functional or Sequential models with the same input and output shapes) are copied
    with their weights under the names member_0, member_1, … so that the same model may appear twice
    and the originals are left untouched. Not a registered builder: it wraps trained models.
    """
    method = check_choice("method", method, METHODS)
    if isinstance(members, keras.Model) or not isinstance(members, (list, tuple)) or len(members) < 2:
        raise ValueError("`members` must be a list of at least two Keras models.")
    shapes = {(tuple(member.input_shape), tuple(member.output_shape)) for member in members}
    if len(shapes) != 1:
        raise ValueError(f"`members` must share their input and output shapes, got {sorted(shapes)}.")
    inputs = keras.Input(members[0].input_shape[1:], name="inputs")
    outputs = []
    for index, member in enumerate(members):
        copy = keras.models.clone_model(member)
        copy.set_weights(member.get_weights())
        copy.name = f"member_{index}"
        outputs.append(copy(inputs))
    if method == "average":
        combined = keras.layers.Average(name="average")(outputs)
    else:
        combined = MajorityVote(name="vote")(outputs)
    return keras.Model(inputs, combined, name=name)
