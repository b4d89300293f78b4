"""Question + context -> windowed ELECTRA features for extractive QA."""

import unicodedata

import keras_hub
import numpy as np
import tensorflow as tf

from keras_electra.api_export import keras_electra_export


def _is_punctuation(char):
    cp = ord(char)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(char):
    cp = ord(char)
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


def _is_space(char):
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zs")


def split_words_with_offsets(text):
    """Split like BERT's basic tokenizer; return `[(word, start, end)]`.

    Whitespace and control characters separate words; each punctuation or
    CJK character is a word of its own. `text[start:end] == word`.
    """
    words = []
    start = None
    for i, char in enumerate(text):
        if _is_space(char):
            if start is not None:
                words.append((text[start:i], start, i))
                start = None
        elif _is_punctuation(char) or _is_cjk(char):
            if start is not None:
                words.append((text[start:i], start, i))
                start = None
            words.append((char, i, i + 1))
        elif start is None:
            start = i
    if start is not None:
        words.append((text[start:], start, len(text)))
    return words


def _first_answer(answer):
    """Canonicalise one example's answers to `(text, start)` or `None`."""
    if answer is None:
        return None
    if isinstance(answer, dict):
        text, start = answer.get("text"), answer.get("answer_start")
    else:
        text, start = answer
    if isinstance(text, (list, tuple, np.ndarray)):
        if len(text) == 0:
            return None
        text, start = text[0], start[0]
    if text is None or text == "":
        return None
    return str(text), int(start)


@keras_electra_export
class ElectraQuestionAnsweringPreprocessor(keras_hub.models.Preprocessor):
    """SQuAD-style features: `[CLS] question [SEP] context window [SEP]`.

    The preprocessor of `ElectraQuestionAnswerer` (a `keras_hub.models.
    Preprocessor`: it saves to and loads from presets with its tokenizer).
    Runs in Python/NumPy on lists (one pass over a data set, before
    training). Each context is split into words with their character spans,
    words into word pieces (the tokenizer's tf-text path, batched), so every
    context token keeps an exact `(start, end)` character span in the
    original context (a piece's span is inside its word; if lowercasing or
    accent stripping changes a word's length, its pieces get the whole word's
    span). Questions are cut to `max_query_length` pieces; long contexts are
    cut into overlapping windows that start `doc_stride` pieces apart, so one
    example can give several features.

    Labels: the token indices of the answer's first and last piece in the
    window. A window that does not contain the whole answer, and every window
    of an unanswerable (SQuAD 2.0) example, is labelled `(0, 0)` (`[CLS]`).

    Args:
        tokenizer: `ElectraTokenizer`.
        sequence_length: int. Defaults to `384`.
        doc_stride: int. Defaults to `128`.
        max_query_length: int. Defaults to `64`.

    Example:
    ```python
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "call", "me",
             "ishmael", ".", "who", "speaks", "?"]
    tokenizer = ElectraTokenizer(vocab)
    pre = ElectraQuestionAnsweringPreprocessor(
        tokenizer, sequence_length=64, doc_stride=16, max_query_length=16)
    context = "Call me Ishmael. Some years ago I went to sea."
    f = pre.features(["Who speaks?"], [context],
                     [{"text": "Ishmael", "answer_start": 8}])
    s, e = f["start_positions"][0], f["end_positions"][0]
    assert context[f["offsets"][0, s, 0]:f["offsets"][0, e, 1]] == "Ishmael"
    x, (start, end) = pre(["Who speaks?"], [context],
                          [{"text": "Ishmael", "answer_start": 8}])
    ```
    """

    def __init__(
        self,
        tokenizer,
        sequence_length=384,
        doc_stride=128,
        max_query_length=64,
        **kwargs,
    ):
        if max_query_length + 4 > sequence_length:
            raise ValueError(
                "`sequence_length` must exceed `max_query_length` + 3 "
                f"(room for some context). Received sequence_length="
                f"{sequence_length}, max_query_length={max_query_length}"
            )
        if doc_stride < 1:
            raise ValueError(
                f"`doc_stride` must be >= 1. Received {doc_stride}"
            )
        super().__init__(**kwargs)
        self.tokenizer = tokenizer
        self.sequence_length = sequence_length
        self.doc_stride = doc_stride
        self.max_query_length = max_query_length

    def build(self, input_shape):
        # Nothing to build (the tokenizer builds itself); without this,
        # Keras warns on the first call that state is left unbuilt.
        self.built = True

    def _word_pieces(self, words):
        """Tokenize unique words in one batched tf-text call."""
        unique = sorted(set(words))
        if not unique:
            return {}
        ids = self.tokenizer.tokenize(tf.constant(unique))
        ids = ids.to_list() if hasattr(ids, "to_list") else list(ids)
        ids = [[int(i) for i in row] for row in ids]
        return dict(zip(unique, ids))

    def _piece_spans(self, word, start, end, ids):
        vocab = self.tokenizer.vocabulary
        texts = [vocab[i] for i in ids]
        texts = [t[2:] if (k and t.startswith("##")) else t
                 for k, t in enumerate(texts)]
        unk = self.tokenizer.unk_token_id
        if unk in ids or sum(len(t) for t in texts) != end - start:
            return [(start, end)] * len(ids)
        spans, position = [], start
        for t in texts:
            spans.append((position, position + len(t)))
            position += len(t)
        return spans

    def _tokenize_text(self, text, pieces_of):
        ids, spans = [], []
        for word, start, end in split_words_with_offsets(text):
            word_ids = pieces_of[word]
            ids.extend(word_ids)
            spans.extend(self._piece_spans(word, start, end, word_ids))
        return ids, spans

    def features(self, questions, contexts, answers=None):
        """Build all features as NumPy arrays.

        Args:
            questions: list of str.
            contexts: list of str.
            answers: None, or a list with one entry per example: `None` or an
                empty answer for unanswerable, else `{"text": str,
                "answer_start": int}` or the SQuAD form `{"text": [str, ...],
                "answer_start": [int, ...]}` (the first answer is used).

        Returns:
            Dict of arrays over features `F`: `token_ids`, `segment_ids`,
            `padding_mask` (int32 `[F, L]`), `offsets` (int32 `[F, L, 2]`,
            character span in the context, `-1` for non-context tokens),
            `example_index` (int32 `[F]`), and with answers
            `start_positions`, `end_positions` (int32 `[F]`).
        """
        if isinstance(questions, str) or isinstance(contexts, str):
            raise ValueError(
                "`questions` and `contexts` must be lists of str. Received "
                f"{type(questions).__name__} and {type(contexts).__name__}."
            )
        if len(questions) != len(contexts):
            raise ValueError(
                f"{len(questions)} questions but {len(contexts)} contexts."
            )
        if answers is not None and len(answers) != len(contexts):
            raise ValueError(
                f"{len(answers)} answers for {len(contexts)} contexts."
            )
        words = [w for t in list(questions) + list(contexts)
                 for w, _, _ in split_words_with_offsets(t)]
        pieces_of = self._word_pieces(words)
        tok = self.tokenizer
        L = self.sequence_length
        out = {k: [] for k in ("token_ids", "segment_ids", "padding_mask",
                               "offsets", "example_index",
                               "start_positions", "end_positions")}
        for index, (question, context) in enumerate(zip(questions, contexts)):
            q_ids, _ = self._tokenize_text(question, pieces_of)
            q_ids = q_ids[: self.max_query_length]
            c_ids, c_spans = self._tokenize_text(context, pieces_of)
            answer = None
            if answers is not None:
                answer = self._locate_answer(index, context, answers[index])
            max_context = L - len(q_ids) - 3
            window_start = 0
            while True:
                length = min(max_context, len(c_ids) - window_start)
                window = range(window_start, window_start + length)
                token_ids = [tok.cls_token_id] + q_ids + [tok.sep_token_id]
                context_offset = len(token_ids)
                token_ids += [c_ids[i] for i in window] + [tok.sep_token_id]
                n = len(token_ids)
                segment_ids = [0] * context_offset + [1] * (n - context_offset)
                offsets = np.full([L, 2], -1, np.int32)
                for k, i in enumerate(window):
                    offsets[context_offset + k] = c_spans[i]
                out["token_ids"].append(
                    token_ids + [tok.pad_token_id] * (L - n))
                out["segment_ids"].append(segment_ids + [0] * (L - n))
                out["padding_mask"].append([1] * n + [0] * (L - n))
                out["offsets"].append(offsets)
                out["example_index"].append(index)
                start, end = 0, 0
                if answer is not None and length > 0:
                    a_start, a_end = answer
                    first_span = c_spans[window.start]
                    last_span = c_spans[window.stop - 1]
                    if first_span[0] <= a_start and last_span[1] >= a_end:
                        ks = [k for k, i in enumerate(window)
                              if c_spans[i][1] > a_start]
                        ke = [k for k, i in enumerate(window)
                              if c_spans[i][0] < a_end]
                        if ks and ke:
                            start = context_offset + ks[0]
                            end = context_offset + ke[-1]
                out["start_positions"].append(start)
                out["end_positions"].append(end)
                if window_start + length >= len(c_ids):
                    break
                window_start += min(length, self.doc_stride)
        result = {k: np.asarray(v, np.int32) for k, v in out.items()}
        if answers is None:
            del result["start_positions"], result["end_positions"]
        return result

    @staticmethod
    def _locate_answer(index, context, answer):
        answer = _first_answer(answer)
        if answer is None:
            return None
        text, start = answer
        if context[start : start + len(text)] != text:
            found = [i for i in range(len(context))
                     if context.startswith(text, i)]
            if not found:
                raise ValueError(
                    f"Example {index}: answer text {text!r} is not in its "
                    f"context (answer_start={start})."
                )
            start = min(found, key=lambda i: abs(i - start))
        return start, start + len(text)

    def __call__(self, questions, contexts, answers=None):
        """Return `(x, (start_positions, end_positions))`, or `x` alone.

        Plain Python on lists (not a `tf.data` map: one example can give
        several windows), so it replaces `keras.layers.Layer.__call__`.

        `x` holds the int32 model inputs `token_ids`, `segment_ids` and
        `padding_mask`. Use `features()` for offsets and example indices.
        """
        f = self.features(questions, contexts, answers)
        x = {k: f[k] for k in ("token_ids", "segment_ids", "padding_mask")}
        if answers is None:
            return x
        return x, (f["start_positions"], f["end_positions"])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "doc_stride": self.doc_stride,
                "max_query_length": self.max_query_length,
            }
        )
        return config
