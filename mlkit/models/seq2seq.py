"""Encoder–decoder sequence-to-sequence model (SPEC §7) with teacher forcing for training and greedy or
beam-search decoding from the same weights, optionally with Luong dot-product attention.

Tokens are integers; 0 is padding (masked). The model takes `[source, target_in]`: the decoder reads
`target_in` = the start token followed by the target shifted right (teacher forcing) and predicts
the target, ended by the end token.
Decoding runs the same layers one step at a time, reached by attribute (`model.encoder`,
`model.decoder`, …), never by position in `model.layers`.
"""

import numbers

import keras
import numpy as np
from keras import ops

from mlkit.data.text import END, START, CharacterVocabulary
from mlkit.layers.peephole_lstm_cell import PeepholeLSTMCell
from mlkit.models.argument_model import ArgumentModel
from mlkit.models.registry import register_builder
from mlkit.validation import check_choice, check_positive_int

SEQ2SEQ_CELLS = ("lstm", "peephole", "gru")


def _stateful_recurrent(cell, units, name):
    """A recurrent layer returning its sequence and final state(s)."""
    if cell == "lstm":
        return keras.layers.LSTM(units, return_sequences=True, return_state=True, name=name)
    if cell == "gru":
        return keras.layers.GRU(units, return_sequences=True, return_state=True, name=name)
    return keras.layers.RNN(PeepholeLSTMCell(units), return_sequences=True, return_state=True, name=name)


@keras.saving.register_keras_serializable(package="mlkit")
class Seq2Seq(ArgumentModel):
    """source tokens → embedding → encoder RNN → final state → decoder RNN over `target_in` →
    (attention over the encoder outputs → tanh(W[h; context])) → softmax over the target tokens.
    An `ArgumentModel`: rebuilt from its constructor arguments.

    Args:
        source_vocabulary_size, target_vocabulary_size: token counts, padding 0 included.
        units, embedding_dim: recurrent width and embedding width.
        cell: "lstm", "peephole" or "gru".
        attention: Luong dot-product attention (`keras.layers.Attention`) on the encoder outputs.
        start_token, end_token: target tokens that open and close every target sequence.
        vocabulary: characters (a string) for a model that reads and writes text: tokens 3, 4, … on
            both sides, padding 0, start 1, end 2; the vocabulary sizes follow from it.
            `translate(["123+456"])` answers in strings, and the exported SavedModel's `serve`
            takes and returns strings.
        reverse_source: read the text backwards (Sutskever et al. 2014: short dependencies first).
        max_output_length: decoding steps (the end token included) of greedy and beam decoding.
    """

    def __init__(self, source_vocabulary_size=None, target_vocabulary_size=None, units=128, embedding_dim=32,
                 cell="lstm", attention=False, start_token=1, end_token=2, vocabulary=None, reverse_source=False,
                 max_output_length=20, name="seq2seq", **kwargs):
        characters = None
        if vocabulary is not None:  # text in, text out: both sides share the characters (tokens 3 …)
            characters = CharacterVocabulary(vocabulary)
            for argument, size in (("source_vocabulary_size", source_vocabulary_size),
                                   ("target_vocabulary_size", target_vocabulary_size)):
                if size is not None and size != characters.size:
                    raise ValueError(f"`{argument}`={size!r} does not match `vocabulary` ({len(vocabulary)} "
                                     f"characters + padding, start and end = {characters.size} tokens).")
            if (start_token, end_token) != (START, END):
                raise ValueError(f"With a `vocabulary` the start and end tokens are {START} and {END}.")
            source_vocabulary_size = target_vocabulary_size = characters.size
        elif source_vocabulary_size is None or target_vocabulary_size is None:
            raise ValueError("Give `source_vocabulary_size` and `target_vocabulary_size`, or a `vocabulary`.")
        source_vocabulary_size = check_positive_int("source_vocabulary_size", source_vocabulary_size)
        target_vocabulary_size = check_positive_int("target_vocabulary_size", target_vocabulary_size)
        units = check_positive_int("units", units)
        embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        max_output_length = check_positive_int("max_output_length", max_output_length)
        cell = check_choice("cell", cell, SEQ2SEQ_CELLS)
        for argument, flag in (("attention", attention), ("reverse_source", reverse_source)):
            if not isinstance(flag, bool):
                raise ValueError(f"`{argument}` must be True or False, got {flag!r}.")
        if reverse_source and characters is None:
            raise ValueError("`reverse_source` applies to text; give a `vocabulary` too.")
        for argument, token in (("start_token", start_token), ("end_token", end_token)):
            if (isinstance(token, bool) or not isinstance(token, numbers.Integral)
                    or not 0 < token < target_vocabulary_size):
                raise ValueError(f"`{argument}` must be a token in 1 … {target_vocabulary_size - 1}, got {token!r}.")
        if start_token == end_token:
            raise ValueError("`start_token` and `end_token` must differ.")
        self._arguments = dict(source_vocabulary_size=source_vocabulary_size,
                               target_vocabulary_size=target_vocabulary_size, units=units,
                               embedding_dim=embedding_dim, cell=cell, attention=attention,
                               start_token=int(start_token), end_token=int(end_token), vocabulary=vocabulary,
                               reverse_source=reverse_source, max_output_length=max_output_length)

        source = keras.Input(shape=(None,), dtype="int32", name="source")
        target_in = keras.Input(shape=(None,), dtype="int32", name="target_in")
        source_embedding = keras.layers.Embedding(source_vocabulary_size, embedding_dim, mask_zero=True,
                                                  name="source_embedding")
        target_embedding = keras.layers.Embedding(target_vocabulary_size, embedding_dim, mask_zero=True,
                                                  name="target_embedding")
        encoder = _stateful_recurrent(cell, units, "encoder")
        decoder = _stateful_recurrent(cell, units, "decoder")
        attend = keras.layers.Attention(name="attention") if attention else None
        combine = keras.layers.Dense(units, activation="tanh", name="attentional_hidden") if attention else None
        output = keras.layers.Dense(target_vocabulary_size, activation="softmax", dtype="float32", name="next_token")

        encoded, *states = encoder(source_embedding(source))
        decoded, *_ = decoder(target_embedding(target_in), initial_state=states)
        if attention:
            context = attend([decoded, encoded])
            decoded = combine(keras.layers.Concatenate(name="with_context")([decoded, context]))
        super().__init__([source, target_in], output(decoded), name=name, **kwargs)
        self.source_embedding, self.target_embedding = source_embedding, target_embedding
        self.encoder, self.decoder, self.attend, self.combine, self.output_layer = (
            encoder, decoder, attend, combine, output)
        self.characters = characters

    # --- inference: the same layers, one step at a time -------------------------------------

    def _check_source(self, source):
        """Token rows (batch, steps) as int32, or one ValueError (empty sequences, unknown tokens)."""
        source = np.asarray(source)
        if source.ndim == 1:
            source = source[None]
        if source.ndim != 2 or not np.issubdtype(source.dtype, np.integer):
            raise ValueError(f"`source` must be integer tokens of shape (batch, steps), got {source.dtype} "
                             f"{source.shape}.")
        if source.size == 0 or not (source != 0).any(axis=1).all():
            raise ValueError("`source` holds an empty sequence (no token other than padding 0).")
        if source.min() < 0 or source.max() >= self._arguments["source_vocabulary_size"]:
            raise ValueError(f"`source` tokens must lie in 0 … {self._arguments['source_vocabulary_size'] - 1}, "
                             f"found {source.min()} … {source.max()}.")
        return source.astype("int32")

    def _encode(self, source):
        source = ops.convert_to_tensor(source, "int32")
        mask = ops.not_equal(source, 0)
        encoded, *states = self.encoder(self.source_embedding(source), mask=mask)
        return encoded, states, mask

    def _step(self, tokens, states, encoded, source_mask):
        """Next-token probabilities (batch, vocabulary) and the new states, from the previous tokens (batch,)."""
        embedded = self.target_embedding(ops.reshape(ops.convert_to_tensor(tokens, "int32"), (-1, 1)))
        decoded, *states = self.decoder(embedded, initial_state=states)
        if self.attend is not None:
            context = self.attend([decoded, encoded], mask=[None, source_mask])
            decoded = self.combine(ops.concatenate([decoded, context], axis=-1))
        return self.output_layer(decoded)[:, 0], states

    def greedy_tokens(self, source, max_length=None):
        """Greedy decoding in tensor ops (also inside a `tf.function`): tokens (batch, max_length),
        0 from the end token on."""
        max_length = self._arguments["max_output_length"] if max_length is None else max_length
        encoded, states, source_mask = self._encode(source)
        tokens = ops.full((ops.shape(encoded)[0],), self._arguments["start_token"], "int32")
        steps = []
        for _ in range(max_length):  # a short fixed unroll: no symbolic loop needed
            probabilities, states = self._step(tokens, states, encoded, source_mask)
            tokens = ops.cast(ops.argmax(probabilities, axis=-1), "int32")
            steps.append(tokens)
        tokens = ops.stack(steps, axis=1)
        ended = ops.cumsum(ops.cast(ops.equal(tokens, self._arguments["end_token"]), "int32"), axis=1) > 0
        return ops.where(ended, 0, tokens)

    def greedy_decode(self, source, max_length=None):
        """The most probable next token at every step, for each source row (batch, steps) of tokens.

        Returns a list of token lists, each without the start and end tokens.
        """
        if max_length is not None:
            max_length = check_positive_int("max_length", max_length)
        tokens = np.asarray(self.greedy_tokens(self._check_source(source), max_length))
        return [[int(token) for token in row if token != 0] for row in tokens]

    def translate(self, texts, beam_width=None):
        """Answers (strings) to `texts` (a string or strings) for a model built with a `vocabulary`:
        greedy decoding, or beam search with `beam_width`."""
        if self.characters is None:
            raise ValueError("This Seq2Seq has no `vocabulary`; decode tokens with greedy_decode or beam_decode.")
        tokens = self.characters.encode(texts, reverse=self._arguments["reverse_source"])
        if beam_width is None:
            answers = self.greedy_decode(tokens)
        else:
            answers = self.beam_decode(tokens, beam_width=beam_width)
        return self.characters.decode(answers)

    def translate_strings(self, strings):
        """tf.string (batch,) → tf.string (batch,) in TensorFlow ops: the exported `serve` endpoint."""
        tokens = self.characters.tokenize(strings, reverse=self._arguments["reverse_source"])
        return self.characters.detokenize(self.greedy_tokens(tokens))

    def beam_decode(self, source, beam_width=3, max_length=None):
        """Beam search: the `beam_width` most probable partial answers are kept at every step; the
        answer is the finished one with the highest log-probability. Returns token lists as
        `greedy_decode` does (beam_width=1 is greedy decoding)."""
        beam_width = check_positive_int("beam_width", beam_width)
        max_length = self._arguments["max_output_length"] if max_length is None else max_length
        max_length = check_positive_int("max_length", max_length)
        end = self._arguments["end_token"]
        answers = []
        for row in self._check_source(source):
            encoded, states, source_mask = self._encode(row[None])
            beams = [(0.0, [self._arguments["start_token"]], states)]
            finished = []
            for _ in range(max_length):
                candidates = []
                for score, tokens, beam_states in beams:
                    probabilities, new_states = self._step(np.array([tokens[-1]]), beam_states, encoded, source_mask)
                    log_probabilities = np.log(np.maximum(np.asarray(probabilities)[0], 1e-30))
                    for token in np.argsort(-log_probabilities)[:beam_width]:
                        candidates.append((score + float(log_probabilities[token]), tokens + [int(token)], new_states))
                candidates.sort(key=lambda candidate: -candidate[0])
                beams = []
                for candidate in candidates[:beam_width]:
                    (finished if candidate[1][-1] == end else beams).append(candidate)
                if not beams or (finished and max(c[0] for c in finished) >= beams[0][0]):
                    break
            best = max(finished or beams, key=lambda candidate: candidate[0])[1][1:]
            answers.append([token for token in best if token != end])
        return answers


@register_builder
def seq2seq(source_vocabulary_size=None, target_vocabulary_size=None, units=128, embedding_dim=32, cell="lstm",
            attention=False, start_token=1, end_token=2, vocabulary=None, reverse_source=False, max_output_length=20,
            name="seq2seq"):
    """A `Seq2Seq` encoder–decoder (see its docstring)."""
    return Seq2Seq(source_vocabulary_size, target_vocabulary_size, units, embedding_dim, cell, attention,
                   start_token, end_token, vocabulary, reverse_source, max_output_length, name=name)
