"""Extractive question answering (SQuAD 1.1 / 2.0 style) with ELECTRA."""

import keras
import numpy as np
import keras_hub
from keras import ops

from keras_electra.api_export import keras_electra_export
from keras_electra.layers.electra_dropout import ElectraDropout
from keras_electra.layers.electra_embedding import electra_kernel_initializer
from keras_electra.models.electra_task import ElectraTask
from keras_electra.models.electra_model import LazyClass
from keras_electra.models.electra_model import build_optimizer
from keras_electra.models.raw_inputs import check_examples
from keras_electra.models.raw_inputs import has_strings
from keras_electra.models.raw_inputs import is_dataset

# Added to the logits of padding positions, so no span starts or ends there.
PADDING_LOGIT_OFFSET = -10000.0


@keras_electra_export
class ElectraQuestionAnswerer(ElectraTask, keras_hub.models.Task):
    """Span extraction: start and end logits for every token.

    A dense layer maps `sequence_output` to two logits per token (start and
    end); padding positions get a large negative offset. Inputs pack the
    question and a window of the passage as `[CLS] question [SEP] passage
    [SEP]`. Training labels are the token indices of the answer's first and
    last word pieces in the window, `0` (the `[CLS]` token) when the window
    does not contain the answer or the question has none (SQuAD 2.0). The
    loss is the mean of the start and end cross-entropies, computed in
    `compute_loss`; `start_accuracy` and `end_accuracy` are logged.

    Raw text: `fit(x=(questions, contexts), y=answers)`, `evaluate` the
    same, and `predict((questions, contexts))` returns one answer dict per
    question (`text`, `score`, `start_char`, `end_char`, `n_best`, ...: see
    `postprocess_answers`). Answers are SQuAD dicts (`{"text": str,
    "answer_start": int}`, or lists of both, the first used), `(text,
    start)` pairs, or `None` / `""` for unanswerable questions. The
    preprocessor (`ElectraQuestionAnsweringPreprocessor`, attached by
    `from_preset`) cuts long contexts into overlapping windows, and
    `predict` picks the best span over all windows of a question.

    Token ids: `y` is a dict with `start_positions` and `end_positions`
    (int `[batch]`), or an int array `[batch, 2]`, and `predict` returns
    the logits; turn them into answer text with `postprocess_answers`
    (n-best spans across document-stride windows, SQuAD 2.0 null answers)
    and score them with `keras_electra.metrics.squad_evaluate`.

    Args:
        backbone: `keras_electra.models.ElectraBackbone`.
        preprocessor: `ElectraQuestionAnsweringPreprocessor` or `None`.
            Needed for raw-text inputs. Defaults to `None`.
        dropout: float. Dropout on `sequence_output` before the span layer.
            Defaults to `0.0` (the original code uses none).
        dtype: string or `keras.DTypePolicy`. Defaults to the backbone's.

    Returns:
        dict of float32 `start_logits` and `end_logits`, each
        `[batch, sequence_length]`.

    Example:
    ```python
    import numpy as np
    from keras_electra.models import ElectraQuestionAnswerer
    model = ElectraQuestionAnswerer.from_preset("electra_tiny")
    questions = ["Who wrote it?"]
    contexts = ["The book was written by Herman Melville in 1851."]
    model.fit((questions, contexts),
              [{"text": "Herman Melville", "answer_start": 24}], verbose=0)
    answers = model.predict((questions, contexts), verbose=0)
    print(answers[0]["text"], answers[0]["score"])
    # Packed token ids work too, and give the logits.
    x = {
        "token_ids": np.array([[2, 100, 3, 200, 300, 3]]),
        "segment_ids": np.array([[0, 0, 0, 1, 1, 1]]),
        "padding_mask": np.ones((1, 6), "int32"),
    }
    model.compile(learning_rate=3e-4)
    model.fit(x, {"start_positions": np.array([3]),
                  "end_positions": np.array([4])}, epochs=1, verbose=0)
    out = model.predict(x, verbose=0)
    assert out["start_logits"].shape == (1, 6)
    ```
    """

    preprocessor_cls = LazyClass(
        "keras_electra.data.electra_question_answering_preprocessor",
        "ElectraQuestionAnsweringPreprocessor",
    )

    def __init__(self, backbone, preprocessor=None, dropout=0.0, dtype=None,
                 **kwargs):
        dtype = dtype or backbone.dtype_policy
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.output_dropout = ElectraDropout(
            dropout, dtype=dtype, name="span_dropout"
        )
        self.output_dense = keras.layers.Dense(
            2,
            kernel_initializer=electra_kernel_initializer(
                backbone.initializer_range
            ),
            dtype=dtype,
            name="span_logits",
        )
        # === Functional model ===
        inputs = backbone.input
        x = backbone(inputs)["sequence_output"]
        logits = ops.cast(self.output_dense(self.output_dropout(x)), "float32")
        padding = 1.0 - ops.cast(inputs["padding_mask"], "float32")
        start_logits = logits[..., 0] + PADDING_LOGIT_OFFSET * padding
        end_logits = logits[..., 1] + PADDING_LOGIT_OFFSET * padding
        # === Config ===
        self.dropout = dropout
        super().__init__(
            inputs=inputs,
            outputs={"start_logits": start_logits, "end_logits": end_logits},
            dtype=dtype,
            **kwargs,
        )
        # === Loss and metrics ===
        self._span_loss = keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, name="span_loss"
        )
        self.start_accuracy = keras.metrics.SparseCategoricalAccuracy(
            name="start_accuracy"
        )
        self.end_accuracy = keras.metrics.SparseCategoricalAccuracy(
            name="end_accuracy"
        )

    def compile(self, optimizer="auto", loss="auto", metrics="auto",
                **kwargs):
        """Configure fine-tuning; see `ElectraClassifier.compile`.

        The span loss is built in (`loss` must stay `"auto"`).

        Example:
        ```python
        model = ElectraQuestionAnswerer.from_preset("electra_tiny")
        model.compile(learning_rate=1e-4, train_steps=1000)
        ```
        """
        if not (isinstance(loss, str) and loss == "auto") and loss is not None:
            raise ValueError(
                "ElectraQuestionAnswerer computes its own span loss; do not "
                f"pass `loss` to compile(). Received loss={loss!r}"
            )
        super().compile(optimizer=optimizer, loss="auto", metrics=None,
                        **kwargs)

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        if y_pred is None:
            y_pred = self(x, training=training)
        if y is None:
            raise ValueError(
                "ElectraQuestionAnswerer needs `y`: a dict of "
                "`start_positions` and `end_positions`, or an int array "
                "[batch, 2]."
            )
        if isinstance(y, dict):
            starts, ends = y["start_positions"], y["end_positions"]
        else:
            starts, ends = y[:, 0], y[:, 1]
        starts = ops.cast(ops.reshape(starts, (-1,)), "int32")
        ends = ops.cast(ops.reshape(ends, (-1,)), "int32")
        start_logits = y_pred["start_logits"]
        end_logits = y_pred["end_logits"]
        loss = 0.5 * (
            self._span_loss(starts, start_logits, sample_weight)
            + self._span_loss(ends, end_logits, sample_weight)
        )
        self.start_accuracy.update_state(starts, start_logits, sample_weight)
        self.end_accuracy.update_state(ends, end_logits, sample_weight)
        if self.losses:
            loss = loss + ops.sum(self.losses)
        return loss

    # --- Raw (question, context) inputs ----------------------------------
    def _raw_features(self, x, answers=None, with_labels=False):
        """Windows of raw `(questions, contexts)`, with span labels."""
        if is_dataset(x):
            raise ValueError(
                "ElectraQuestionAnswerer takes raw text as `(questions, "
                "contexts)` lists, not a tf.data.Dataset of strings (one "
                "question can give several windows). Pass the lists, or a "
                "dataset of packed token ids."
            )
        if self.preprocessor is None:
            raise ValueError(
                "ElectraQuestionAnswerer received raw text, but its "
                "`preprocessor` is None. Pass packed token ids, or set a "
                "preprocessor (`from_preset()` attaches one)."
            )
        if not isinstance(x, (tuple, list)) or len(x) != 2:
            raise ValueError(
                "Raw question-answering inputs are `(questions, contexts)`: "
                f"two lists of str. Received {type(x).__name__}"
                + (f" of length {len(x)}." if hasattr(x, "__len__") else ".")
            )
        questions, contexts = x
        if isinstance(questions, str) and isinstance(contexts, str):
            questions, contexts = [questions], [contexts]
            if with_labels and answers is not None:
                answers = [answers]
        questions = [str(q) for q in questions]
        contexts = [str(c) for c in contexts]
        check_examples(self, "fit/evaluate" if with_labels else "predict",
                       (questions, contexts), answers)
        for index, context in enumerate(contexts):
            if not context.strip():
                raise ValueError(
                    f"Context {index} (question {questions[index]!r}) is "
                    "empty; an extractive answer needs passage text."
                )
        if with_labels and answers is None:
            raise ValueError(
                "ElectraQuestionAnswerer.fit()/evaluate() on raw text needs "
                "`y`: one answer per question (a SQuAD dict `{'text', "
                "'answer_start'}`, a `(text, start)` pair, or None for no "
                "answer)."
            )
        features = self.preprocessor.features(
            questions, contexts, list(answers) if with_labels else None
        )
        inputs = {k: features[k]
                  for k in ("token_ids", "segment_ids", "padding_mask")}
        return features, inputs, contexts

    def _raw_xy(self, x, y):
        if not has_strings(x):
            return x, y
        features, inputs, _ = self._raw_features(x, y, with_labels=True)
        labels = {k: features[k] for k in ("start_positions", "end_positions")}
        return inputs, labels

    def fit(self, x=None, y=None, validation_data=None, **kwargs):
        check_examples(self, "fit", x, y)
        build_optimizer(self)
        x, y = self._raw_xy(x, y)
        if isinstance(validation_data, (tuple, list)) and (
            len(validation_data) == 2 and has_strings(validation_data[0])
        ):
            validation_data = self._raw_xy(*validation_data)
        return keras.Model.fit(self, x, y, validation_data=validation_data,
                               **kwargs)

    def evaluate(self, x=None, y=None, **kwargs):
        check_examples(self, "evaluate", x, y)
        x, y = self._raw_xy(x, y)
        return keras.Model.evaluate(self, x, y, **kwargs)

    def predict(self, x, batch_size=None, verbose="auto", steps=None,
                callbacks=None, **answer_kwargs):
        """Answers for raw `(questions, contexts)`; logits for token ids.

        Args:
            x: `(questions, contexts)` (two lists of str, or two str), or
                packed token ids.
            batch_size, verbose, steps, callbacks: as `keras.Model.predict`.
            **answer_kwargs: raw text only: `n_best_size`,
                `max_answer_length`, `allow_null` (SQuAD 2.0),
                `null_score_threshold`; see `postprocess_answers`.

        Returns:
            For raw text, a list with one dict per question (`text`,
            `score`, `null_score`, `n_best`, `start_char`, `end_char`);
            otherwise the dict of `start_logits` and `end_logits`.

        Example:
        ```python
        model = ElectraQuestionAnswerer.from_preset("electra_tiny")
        [answer] = model.predict(("Who?", "Call me Ishmael."), verbose=0)
        assert answer["text"] in "Call me Ishmael."
        ```
        """
        check_examples(self, "predict", x)
        kwargs = dict(batch_size=batch_size, verbose=verbose, steps=steps,
                      callbacks=callbacks)
        if not has_strings(x):
            if answer_kwargs:
                raise TypeError(
                    f"Unexpected arguments {sorted(answer_kwargs)}: they "
                    "apply to raw (questions, contexts) inputs only."
                )
            self.check_inputs(x)
            return keras.Model.predict(self, x, **kwargs)
        features, inputs, contexts = self._raw_features(x)
        outputs = keras.Model.predict(self, inputs, **kwargs)
        answers = postprocess_answers(
            outputs["start_logits"],
            outputs["end_logits"],
            features["offsets"],
            list(features["example_index"]),
            contexts,
            **answer_kwargs,
        )
        result = []
        for index in range(len(contexts)):
            answer = answers.get(index, {"text": "", "score": None,
                                         "null_score": None, "n_best": []})
            best = answer["n_best"][0] if answer["n_best"] else {}
            if answer["text"] == "":
                best = {}
            answer["start_char"] = best.get("start_char", -1)
            answer["end_char"] = best.get("end_char", -1)
            result.append(answer)
        return result

    def get_config(self):
        config = super().get_config()
        config["dropout"] = self.dropout
        return config


def answer_token_span(offsets, answer_start, answer_end):
    """Token indices of a character span in one window; `(0, 0)` if absent.

    Use it to build training labels: the answer's first token is the one
    whose character range contains `answer_start`, the last the one that
    contains `answer_end - 1`. When the window does not hold the whole
    answer, both labels point at `[CLS]` (index 0), as in the original code.

    Args:
        offsets: int array `[sequence_length, 2]` of character `[start,
            end)` ranges in the context; `-1` for tokens outside it.
        answer_start: int. First character of the answer.
        answer_end: int. One past its last character.

    Returns:
        `(start_token, end_token)`.

    Example:
    ```python
    import numpy as np
    offsets = np.array([[-1, -1], [0, 5], [6, 11], [12, 17], [-1, -1]])
    assert answer_token_span(offsets, 6, 17) == (2, 3)
    assert answer_token_span(offsets, 20, 25) == (0, 0)
    ```
    """
    offsets = np.asarray(offsets)
    valid = (offsets[:, 0] >= 0) & (offsets[:, 1] > offsets[:, 0])
    starts = np.where(
        valid & (offsets[:, 0] <= answer_start) & (offsets[:, 1] > answer_start)
    )[0]
    ends = np.where(
        valid
        & (offsets[:, 0] < answer_end)
        & (offsets[:, 1] >= answer_end)
    )[0]
    if len(starts) == 0 or len(ends) == 0:
        return 0, 0
    return int(starts[0]), int(ends[0])


def postprocess_answers(
    start_logits,
    end_logits,
    offsets,
    example_ids,
    contexts,
    n_best_size=20,
    max_answer_length=30,
    allow_null=False,
    null_score_threshold=0.0,
):
    """Pick answer spans from start/end logits, across passage windows.

    For every window, the `n_best_size` best start and end positions are
    combined; a pair is a candidate when both tokens lie in the passage
    (`offsets >= 0`), `start <= end`, and it spans at most
    `max_answer_length` tokens. Its score is `start_logit + end_logit`.
    Candidates of all windows of the same example (document stride) are
    ranked together; equal texts are merged. With `allow_null=True`
    (SQuAD 2.0) the null score is the smallest `start_logits[0] +
    end_logits[0]` (the `[CLS]` token) over the example's windows, and the
    answer is `""` when `null_score - best_score > null_score_threshold`
    or when no span is valid.

    Args:
        start_logits: float array `[num_windows, sequence_length]`.
        end_logits: float array `[num_windows, sequence_length]`.
        offsets: int array `[num_windows, sequence_length, 2]`: character
            `[start, end)` of each token in its example's context, `-1` for
            question, special and padding tokens.
        example_ids: sequence of `num_windows` ids (the example of each
            window).
        contexts: dict (or list) from example id to the context string.
        n_best_size: int. Defaults to `20`.
        max_answer_length: int. In tokens. Defaults to `30`.
        allow_null: bool. SQuAD 2.0 null answers. Defaults to `False`.
        null_score_threshold: float. Defaults to `0.0`.

    Returns:
        dict from example id to a dict with `text`, `score` (best span
        score), `null_score` and `n_best` (a list of dicts with `text`,
        `score`, `probability`, `start_char`, `end_char`, best first).

    Example:
    ```python
    import numpy as np
    context = "Paris is the capital of France."
    offsets = np.array([[[-1, -1], [0, 5], [6, 8], [9, 12], [13, 20],
                         [21, 23], [24, 30], [-1, -1]]])
    start = np.array([[0., 5., 0., 0., 0., 0., 1., 0.]])
    end = np.array([[0., 4., 0., 0., 0., 0., 3., 0.]])
    answers = postprocess_answers(start, end, offsets, ["q"], {"q": context})
    assert answers["q"]["text"] == "Paris"
    ```
    """
    start_logits = np.asarray(start_logits, dtype="float64")
    end_logits = np.asarray(end_logits, dtype="float64")
    offsets = np.asarray(offsets)
    if start_logits.shape != end_logits.shape or (
        offsets.shape[:2] != start_logits.shape
    ):
        raise ValueError(
            "Expected start/end logits [num_windows, sequence_length] and "
            "offsets [num_windows, sequence_length, 2]. Received "
            f"{start_logits.shape}, {end_logits.shape} and {offsets.shape}."
        )
    if len(example_ids) != len(start_logits):
        raise ValueError(
            f"Received {len(example_ids)} example ids for "
            f"{len(start_logits)} windows."
        )
    by_example = {}
    for window, example_id in enumerate(example_ids):
        by_example.setdefault(example_id, []).append(window)

    results = {}
    for example_id, windows in by_example.items():
        context = contexts[example_id]
        candidates = {}
        null_score = None
        for w in windows:
            starts_w, ends_w, offs = start_logits[w], end_logits[w], offsets[w]
            score_null = starts_w[0] + ends_w[0]
            null_score = (
                score_null if null_score is None else min(null_score,
                                                          score_null)
            )
            valid = (offs[:, 0] >= 0) & (offs[:, 1] > offs[:, 0])
            top_starts = np.argsort(-starts_w, kind="stable")[:n_best_size]
            top_ends = np.argsort(-ends_w, kind="stable")[:n_best_size]
            for s in top_starts:
                if not valid[s]:
                    continue
                for e in top_ends:
                    if not valid[e] or e < s or e - s + 1 > max_answer_length:
                        continue
                    score = float(starts_w[s] + ends_w[e])
                    start_char, end_char = int(offs[s, 0]), int(offs[e, 1])
                    text = context[start_char:end_char]
                    best = candidates.get(text)
                    if best is None or score > best["score"]:
                        candidates[text] = {
                            "text": text,
                            "score": score,
                            "start_char": start_char,
                            "end_char": end_char,
                        }
        n_best = sorted(candidates.values(), key=lambda c: -c["score"])
        n_best = n_best[:n_best_size]
        if n_best:
            scores = np.array([c["score"] for c in n_best])
            probabilities = np.exp(scores - scores.max())
            probabilities /= probabilities.sum()
            for c, p in zip(n_best, probabilities):
                c["probability"] = float(p)
        best_score = n_best[0]["score"] if n_best else None
        text = n_best[0]["text"] if n_best else ""
        if allow_null and n_best and (
            null_score - best_score > null_score_threshold
        ):
            text = ""
        results[example_id] = {
            "text": text,
            "score": best_score,
            "null_score": float(null_score),
            "n_best": n_best,
        }
    return results
