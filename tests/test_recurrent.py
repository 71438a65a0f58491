"""The peephole LSTM cell and the sequence builders' behaviour (the shared model test covers the rest)."""

import numpy as np
import pytest
import tensorflow as tf

import keras

from mlkit import models
from mlkit.layers import PeepholeLSTMCell
from mlkit_cli import main

rng = np.random.default_rng(0)


def test_zero_peepholes_reproduce_keras_lstm():
    x = rng.standard_normal((4, 9, 3)).astype("float32")
    reference = keras.layers.LSTM(5, return_sequences=True, return_state=True)
    peephole = keras.layers.RNN(PeepholeLSTMCell(5), return_sequences=True, return_state=True)
    expected = reference(x)
    peephole(x)
    peephole.set_weights(reference.get_weights() + [np.zeros(5, "float32")] * 3)
    for ours, theirs in zip(peephole(x), expected):  # sequences, h_T, c_T
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), atol=1e-5)
    bias = np.asarray(peephole.cell.bias)
    np.testing.assert_array_equal(bias[5:10], 1.0)  # forget-gate bias starts at 1, as in the notes


def test_peepholes_change_the_output_and_the_gates_see_the_right_cell_state():
    cell = PeepholeLSTMCell(2, dtype="float64")
    x = rng.standard_normal((1, 3)).astype("float64")
    h, c = rng.standard_normal((1, 2)), rng.standard_normal((1, 2))
    cell.build((None, 3))
    peepholes = [rng.standard_normal(2) for _ in range(3)]
    for weight, value in zip((cell.input_gate_peephole_weights, cell.forget_gate_peephole_weights,
                              cell.output_gate_peephole_weights), peepholes):
        weight.assign(value)
    output, (h_new, c_new) = cell(x, [h, c])
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    z = x @ np.asarray(cell.kernel) + h @ np.asarray(cell.recurrent_kernel) + np.asarray(cell.bias)
    z_i, z_f, z_c, z_o = np.split(z, 4, axis=1)
    i, f = sigmoid(z_i + peepholes[0] * c), sigmoid(z_f + peepholes[1] * c)  # c_{t-1}
    c_expected = f * c + i * np.tanh(z_c)
    o = sigmoid(z_o + peepholes[2] * c_expected)  # c_t
    np.testing.assert_allclose(np.asarray(c_new), c_expected, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(output), o * np.tanh(c_expected), rtol=1e-12)


def test_peephole_gradients_match_finite_differences():
    keras.utils.set_random_seed(0)
    layer = keras.layers.RNN(PeepholeLSTMCell(3, dtype="float64"), dtype="float64")
    x = tf.constant(rng.standard_normal((2, 5, 2)), tf.float64)
    layer(x)
    for weight in layer.cell.trainable_weights:
        weight.assign(rng.standard_normal(weight.shape) * 0.5)

    def loss():
        return tf.reduce_sum(layer(x) ** 2)

    with tf.GradientTape() as tape:
        value = loss()
    gradients = tape.gradient(value, layer.cell.trainable_weights)
    step = 1e-6
    for weight, gradient in zip(layer.cell.trainable_weights, gradients):
        flat = np.asarray(weight).ravel()
        for index in rng.choice(flat.size, min(4, flat.size), replace=False):
            original = flat.copy()
            shifted = original.copy()
            shifted[index] += step
            weight.assign(shifted.reshape(weight.shape))
            above = float(loss())
            shifted[index] -= 2 * step
            weight.assign(shifted.reshape(weight.shape))
            below = float(loss())
            weight.assign(original.reshape(weight.shape))
            numeric = (above - below) / (2 * step)
            assert np.asarray(gradient).ravel()[index] == pytest.approx(numeric, rel=1e-5, abs=1e-8), weight.name


def test_peephole_cell_works_bidirectional_and_stacked():
    x = rng.standard_normal((3, 6, 2)).astype("float32")
    stacked = keras.layers.RNN([PeepholeLSTMCell(4), PeepholeLSTMCell(3)], return_sequences=True)
    assert stacked(x).shape == (3, 6, 3)
    both = keras.layers.Bidirectional(keras.layers.RNN(PeepholeLSTMCell(4, dropout=0.2, recurrent_dropout=0.2)))
    assert both(x, training=True).shape == (3, 8)
    restored = keras.layers.deserialize(keras.layers.serialize(both))
    assert restored(x).shape == (3, 8)


def test_masked_padding_changes_nothing():
    keras.utils.set_random_seed(0)
    for cell in ("lstm", "peephole", "gru", "simple"):
        model = models.sequence_model(input_shape=(None, 2), cell=cell, units=(4,), masking=True)
        sequence = rng.uniform(0.5, 1.0, (1, 5, 2)).astype("float32")
        padded = np.concatenate([sequence, np.zeros((1, 3, 2), "float32")], axis=1)
        np.testing.assert_allclose(np.asarray(model(padded)), np.asarray(model(sequence)), rtol=1e-5, atol=1e-6)
        tokens = models.sequence_model(input_shape=(None,), cell=cell, units=(4,), vocabulary_size=9, masking=True)
        short = np.array([[3, 5, 7]], "int32")
        long = np.array([[3, 5, 7, 0, 0]], "int32")
        np.testing.assert_allclose(np.asarray(tokens(long)), np.asarray(tokens(short)), rtol=1e-5, atol=1e-6)


def test_many_to_many_gives_one_output_per_step():
    model = models.sequence_model(input_shape=(None, 3), cell="gru", units=(4,), many_to_many=True, output_units=2)
    assert model(np.zeros((2, 11, 3), "float32")).shape == (2, 11, 2)


@pytest.mark.parametrize("attention", [False, True])
def test_seq2seq_decoding_reproduces_a_memorised_mapping(attention):
    # reverse short sequences of tokens 3…9 (1 = start, 2 = end on the target side, 0 = padding)
    keras.utils.set_random_seed(0)
    sources = [[3, 4, 5], [6, 7], [8, 9, 3, 4], [5, 6, 7], [9, 8], [4, 3, 6]]
    targets = [list(reversed(row)) for row in sources]
    length = max(map(len, sources))
    source = np.array([row + [0] * (length - len(row)) for row in sources], "int32")
    target_in = np.array([[1] + row + [0] * (length - len(row)) for row in targets], "int32")
    target_out = np.array([row + [2] + [0] * (length - len(row)) for row in targets], "int32")
    model = models.seq2seq(10, 10, units=32, embedding_dim=8, attention=attention)
    model.compile(keras.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy")
    model.fit([source, target_in], target_out, epochs=80, batch_size=6, verbose=0)
    assert model.greedy_decode(source, max_length=8) == targets
    assert model.beam_decode(source, beam_width=3, max_length=8) == targets
    with pytest.raises(ValueError, match="`beam_width`"):
        model.beam_decode(source, beam_width=0)


# --- text: character vocabularies, the addition data, strings in and out -----------------------

def test_character_vocabulary_numpy_and_tensorflow_agree():
    from mlkit.data.text import CharacterVocabulary

    vocabulary = CharacterVocabulary("0123456789+")
    texts = ["12+345", "7+8", "999+1"]
    for reverse in (False, True):
        tokens = vocabulary.encode(texts, reverse=reverse)
        assert tokens.shape == (3, 6) and tokens.dtype == np.int32
        np.testing.assert_array_equal(vocabulary.tokenize(tf.constant(texts), reverse=reverse).numpy(), tokens)
    assert vocabulary.encode(["7+8"], reverse=True).tolist() == [[3 + 8, 3 + 10, 3 + 7]]
    assert vocabulary.decode(vocabulary.encode(texts)) == texts
    with_ends = vocabulary.encode(texts, length=8, start=True, end=True)
    assert with_ends[1].tolist() == [1, 10, 13, 11, 2, 0, 0, 0]
    assert vocabulary.decode(with_ends) == texts
    # an end token cuts the answer; what follows it is ignored on both sides
    rows = np.array([[4, 5, 2, 6], [3, 0, 0, 0]], "int32")
    assert vocabulary.decode(rows) == ["12", "0"]
    assert [text.decode() for text in vocabulary.detokenize(rows).numpy()] == ["12", "0"]


def test_character_vocabulary_refuses_bad_vocabularies_and_texts():
    from mlkit.data.text import CharacterVocabulary

    with pytest.raises(ValueError, match="`vocabulary` repeats '1'"):
        CharacterVocabulary("0112")
    with pytest.raises(ValueError, match="`vocabulary` must be a non-empty string"):
        CharacterVocabulary("")
    vocabulary = CharacterVocabulary("0123456789+")
    with pytest.raises(ValueError, match="outside the model's vocabulary: 'a'"):
        vocabulary.encode(["12+3", "1a+2"])
    with pytest.raises(ValueError, match=r"`texts`\[1\] is an empty string"):
        vocabulary.encode(["1", ""])
    with pytest.raises(ValueError, match="`texts` is empty"):
        vocabulary.encode([])
    with pytest.raises(ValueError, match="longer than `length`=3"):
        vocabulary.encode(["12+34"], length=3)
    with pytest.raises(ValueError, match="trained on at most 7"):
        vocabulary.check(["123+4567"], max_length=7)
    with pytest.raises(tf.errors.InvalidArgumentError, match="outside the vocabulary"):
        vocabulary.tokenize(tf.constant(["1+x"]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="empty string"):
        vocabulary.tokenize(tf.constant(["1+2", ""]))


def test_addition_questions_are_distinct_and_answered_right():
    from mlkit.data.text import addition_problem

    questions, answers = addition_problem(3000, digits=3, seed=4)
    assert len(questions) == 3000
    pairs = {tuple(sorted(map(int, question.split("+")))) for question in questions}
    assert len(pairs) == 3000  # a+b and b+a count once
    assert all(int(answer) == sum(map(int, question.split("+"))) for question, answer in zip(questions, answers))
    assert max(len(question) for question in questions) == 7 and min(len(question) for question in questions) == 3
    assert addition_problem(50, digits=5, seed=1) == addition_problem(50, digits=5, seed=1)
    with pytest.raises(ValueError, match="`digits`"):
        addition_problem(10, digits=0)
    with pytest.raises(ValueError, match="`num_examples`"):
        addition_problem(100, digits=1)  # only 55 distinct one-digit questions


def test_seq2seq_vocabulary_must_match_the_token_counts():
    with pytest.raises(ValueError, match="`source_vocabulary_size`=12 does not match `vocabulary`"):
        models.seq2seq(source_vocabulary_size=12, vocabulary="0123456789+")
    with pytest.raises(ValueError, match="`reverse_source` applies to text"):
        models.seq2seq(5, 5, reverse_source=True)
    with pytest.raises(ValueError, match="or a `vocabulary`"):
        models.seq2seq(source_vocabulary_size=5)
    model = models.seq2seq(vocabulary="ab", units=3, embedding_dim=2)
    with pytest.raises(ValueError, match="empty sequence"):
        model.greedy_decode(np.zeros((2, 3), "int32"))
    with pytest.raises(ValueError, match="`source` tokens must lie in 0 … 4"):
        model.greedy_decode(np.array([[3, 7]]))
    with pytest.raises(ValueError, match="no `vocabulary`"):
        models.seq2seq(5, 5, units=2).translate(["ab"])


def test_text_seq2seq_learns_a_mapping_and_serves_strings(tmp_path, capsys):
    """Reversing short strings: learnt, then exported; `mlkit predict` answers text and refuses bad text."""
    from mlkit.training import export_model

    keras.utils.set_random_seed(0)
    texts = ["abc", "ba", "cab", "acb", "bb", "ca"]
    answers = [text[::-1] for text in texts]
    model = models.seq2seq(vocabulary="abc", units=32, embedding_dim=8, reverse_source=True, max_output_length=5)
    vocabulary = model.characters
    source = vocabulary.encode(texts, reverse=True)
    target_in = vocabulary.encode(answers, length=4, start=True)
    target_out = vocabulary.encode(answers, length=4, end=True)
    model.compile(keras.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy")
    model.fit([source, target_in], target_out, epochs=80, batch_size=6, verbose=0)
    assert model.translate(texts) == answers
    assert model.translate(texts, beam_width=2) == answers

    path = export_model(model, tmp_path / "export", texts, input_range=(2, 3))
    reloaded = tf.saved_model.load(str(path))
    served = [answer.decode() for answer in reloaded.serve(tf.constant(texts)).numpy()]
    assert served == answers
    assert main(["predict", str(path), "cab"]) == 0
    assert capsys.readouterr().out == "bac\n"
    (tmp_path / "questions.txt").write_text("abc\nba\n")
    assert main(["predict", str(path), str(tmp_path / "questions.txt"), "--output", str(tmp_path / "answers.txt")]) == 0
    assert (tmp_path / "answers.txt").read_text() == "cba\nab\n"
    capsys.readouterr()
    assert main(["predict", str(path), "ab", "--output", str(tmp_path / "answers.npy")]) == 2
    assert "--output must end in .txt or .csv" in capsys.readouterr().err
    assert not (tmp_path / "answers.npy").exists()
    for bad, message in (("abx", "outside the model's vocabulary: 'x'"), ("", "the input text is empty"),
                         ("abca", "trained on at most 3")):
        assert main(["predict", str(path), bad]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err.count("\n") == 1 and message in captured.err, captured.err
