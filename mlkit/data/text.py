"""Character vocabularies for sequence models that read and write text, and the addition task.

Token 0 is padding, 1 opens and 2 closes a target sequence; the characters follow from 3. The
same mapping exists twice: in NumPy (`encode` / `decode`, with one clear error for bad text)
and in TensorFlow ops (`tokenize` / `detokenize`), so an exported SavedModel can take and
return strings. The TensorFlow side uses only constant tensors (a code-point table), so the
SavedModel holds no lookup-table resources.
"""

import numbers

import numpy as np

PADDING, START, END = 0, 1, 2
RESERVED_TOKENS = 3


class CharacterVocabulary:
    """Characters ↔ tokens (3, 4, …); 0 pads, 1 starts and 2 ends a sequence.

    Args:
        characters: a string of distinct characters, e.g. "0123456789+".
    """

    def __init__(self, characters):
        if not isinstance(characters, str) or not characters:
            raise ValueError(f"`vocabulary` must be a non-empty string of characters, got {characters!r}.")
        repeated = sorted({character for character in characters if characters.count(character) > 1})
        if repeated:
            raise ValueError(f"`vocabulary` repeats {''.join(repeated)!r}; each character must appear once.")
        self.characters = characters
        self.size = len(characters) + RESERVED_TOKENS
        self._tokens = {character: index + RESERVED_TOKENS for index, character in enumerate(characters)}

    def check(self, texts, argument="texts", max_length=None):
        """`texts` as a list of strings, or one ValueError naming the first bad one."""
        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        if not texts:
            raise ValueError(f"`{argument}` is empty: give at least one string.")
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise ValueError(f"`{argument}`[{index}] is not a string: {text!r}.")
            if not text:
                raise ValueError(f"`{argument}`[{index}] is an empty string; the model needs at least one character.")
            unknown = sorted({character for character in text if character not in self._tokens})
            if unknown:
                raise ValueError(f"{text!r} has characters outside the model's vocabulary: "
                                 f"{''.join(unknown)!r} (it reads {self.characters!r}).")
            if max_length is not None and len(text) > max_length:
                raise ValueError(f"{text!r} has {len(text)} characters; the model was trained on at most {max_length}.")
        return texts

    def encode(self, texts, length=None, reverse=False, end=False, start=False, argument="texts"):
        """Tokens (n, length) int32, padded with 0; `reverse` reverses each text, `start`/`end` add
        the start/end tokens. `length` defaults to the longest."""
        texts = self.check(texts, argument)
        rows = [[self._tokens[character] for character in (text[::-1] if reverse else text)] for text in texts]
        rows = [([START] if start else []) + row + ([END] if end else []) for row in rows]
        longest = max(len(row) for row in rows)
        if length is None:
            length = longest
        elif longest > length:
            raise ValueError(f"`{argument}` holds a sequence of {longest} tokens, longer than `length`={length}.")
        tokens = np.zeros((len(rows), length), "int32")
        for index, row in enumerate(rows):
            tokens[index, :len(row)] = row
        return tokens

    def decode(self, token_rows):
        """Strings from token rows (an array or lists): characters up to the first end token; padding and
        start skipped."""
        texts = []
        for row in token_rows:
            characters = []
            for token in row:
                if token == END:
                    break
                if token >= RESERVED_TOKENS:
                    characters.append(self.characters[token - RESERVED_TOKENS])
            texts.append("".join(characters))
        return texts

    # --- the same in TensorFlow ops (graph-compatible, for serving) --------------------------

    def tokenize(self, strings, reverse=False):
        """tf.string (batch,) → int32 tokens (batch, longest), padded with 0.

        A character outside the vocabulary or an empty string fails with InvalidArgumentError.
        """
        import tensorflow as tf

        code_points = tf.strings.unicode_decode(strings, "UTF-8")
        table_size = max(ord(character) for character in self.characters) + 2
        table = np.full(table_size, -1, "int32")  # the last entry catches every larger code point
        for character, token in self._tokens.items():
            table[ord(character)] = token
        tokens = tf.ragged.map_flat_values(
            lambda values: tf.gather(table, tf.minimum(values, table_size - 1)), code_points)
        lengths = tokens.row_lengths()
        checks = [
            tf.debugging.assert_non_negative(tokens.flat_values,
                                             message=f"characters outside the vocabulary {self.characters!r}"),
            tf.debugging.assert_positive(lengths, message="empty string"),
        ]
        with tf.control_dependencies(checks):
            dense = tokens.to_tensor(default_value=PADDING)
        if reverse:
            dense = tf.reverse_sequence(dense, lengths, seq_axis=1, batch_axis=0)
        return dense

    def detokenize(self, tokens):
        """int32 tokens (batch, steps) → tf.string (batch,): characters up to the first end token."""
        import tensorflow as tf

        tokens = tf.convert_to_tensor(tokens, tf.int32)
        ended = tf.cumsum(tf.cast(tf.equal(tokens, END), tf.int32), axis=1) > 0
        tokens = tf.where(ended, PADDING, tokens)
        table = tf.constant([""] * RESERVED_TOKENS + list(self.characters))
        return tf.strings.reduce_join(tf.gather(table, tokens), axis=1)


def addition_problem(num_examples, digits=3, seed=0):
    """Unique "a+b" questions and their answers as strings (keras-io's addition_rnn data).

    a and b have 1 to `digits` digits (the number of digits drawn uniformly first, as keras-io does);
    a+b and b+a count as the same question. Returns (questions, answers), two lists of strings.
    """
    for name, value in (("num_examples", num_examples), ("digits", digits)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"`{name}` must be a positive integer, got {value!r}.")
    possible = (10 ** digits) * (10 ** digits + 1) // 2
    if num_examples > possible // 2:
        raise ValueError(f"`num_examples`={num_examples} is more than half of the {possible} distinct "
                         f"{digits}-digit questions; use fewer or more digits.")
    rng = np.random.default_rng(seed)
    seen, questions, answers = set(), [], []
    while len(questions) < num_examples:
        a, b = (int(rng.integers(0, 10 ** int(rng.integers(1, digits + 1)))) for _ in range(2))
        key = (min(a, b), max(a, b))
        if key in seen:
            continue
        seen.add(key)
        questions.append(f"{a}+{b}")
        answers.append(str(a + b))
    return questions, answers
