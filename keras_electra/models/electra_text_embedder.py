"""Sentence embeddings from an ELECTRA encoder, and a small vector index."""

import numpy as np
import keras_hub
from keras import ops

from keras_electra.api_export import keras_electra_export
from keras_electra.models.electra_task import ElectraTask
from keras_electra.models.electra_model import LazyClass

POOLING_MODES = ("mean", "cls", "max")


@keras_electra_export
class ElectraTextEmbedder(ElectraTask, keras_hub.models.Task):
    """One vector per text: pooled `sequence_output`, optionally L2-normalized.

    Pooling: `"mean"` averages the vectors of real tokens (`padding_mask`
    1, `[CLS]` and `[SEP]` included), `"cls"` takes the first token, `"max"`
    takes the per-feature maximum over real tokens. Padding never changes
    the result. With `normalize=True` the vectors have unit length, so a dot
    product is the cosine similarity. The model has no weights beyond the
    backbone; fine-tune it with any loss on its outputs (for example a
    contrastive loss over pairs) through `compile(loss=...)`.

    Args:
        backbone: `keras_electra.models.ElectraBackbone`.
        pooling: str. `"mean"`, `"cls"` or `"max"`. Defaults to `"mean"`.
        normalize: bool. L2-normalize the embeddings. Defaults to `True`.
        dtype: string or `keras.DTypePolicy`. Defaults to the backbone's.

    Returns:
        float32 `[batch, hidden_dim]`.

    Example:
    ```python
    import numpy as np
    from keras_electra.models import ElectraTextEmbedder
    model = ElectraTextEmbedder.from_preset("electra_tiny")
    x = {
        "token_ids": np.array([[2, 100, 200, 3], [2, 300, 3, 0]]),
        "segment_ids": np.zeros((2, 4), "int32"),
        "padding_mask": np.array([[1, 1, 1, 1], [1, 1, 1, 0]]),
    }
    vectors = model.predict(x, verbose=0)
    assert vectors.shape == (2, 128)
    ```
    """

    preprocessor_cls = LazyClass(
        "keras_electra.data.electra_classifier_preprocessor",
        "ElectraClassifierPreprocessor",
    )

    def __init__(self, backbone, preprocessor=None, pooling="mean",
                 normalize=True, dtype=None, **kwargs):
        if pooling not in POOLING_MODES:
            raise ValueError(
                f"`pooling` must be one of {POOLING_MODES}. Received: "
                f"pooling={pooling!r}"
            )
        dtype = dtype or backbone.dtype_policy
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        # === Functional model ===
        inputs = backbone.input
        x = ops.cast(backbone(inputs)["sequence_output"], "float32")
        mask = ops.expand_dims(ops.cast(inputs["padding_mask"], "float32"), -1)
        if pooling == "mean":
            total = ops.sum(x * mask, axis=1)
            pooled = total / ops.maximum(ops.sum(mask, axis=1), 1.0)
        elif pooling == "cls":
            pooled = x[:, 0, :]
        else:
            pooled = ops.max(x + (mask - 1.0) * 1e9, axis=1)
        if normalize:
            pooled = pooled / ops.sqrt(
                ops.maximum(ops.sum(ops.square(pooled), -1, keepdims=True),
                            1e-12)
            )
        # === Config ===
        self.pooling = pooling
        self.normalize = normalize
        super().__init__(inputs=inputs, outputs=pooled, dtype=dtype, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update({"pooling": self.pooling, "normalize": self.normalize})
        return config


def contrastive_trainer(embedder, scale=20.0):
    """A model that trains `embedder` on matching text pairs.

    It embeds a batch of `anchor` texts and their `positive` partners with
    the same `embedder` (shared weights) and returns `scale` times the
    cosine similarity of every anchor with every positive, `[batch,
    batch]`: with labels `range(batch)` and sparse categorical
    cross-entropy this is the in-batch-negatives (InfoNCE / multiple
    negatives ranking) loss, each anchor's partner against the batch's
    other positives. The trainer's `backbone` is the embedder's, so
    `fine_tuning_optimizer` applies layer-wise decay to it.

    Args:
        embedder: `ElectraTextEmbedder`.
        scale: float. Inverse temperature of the similarities. Defaults to
            `20.0`.

    Example:
    ```python
    import numpy as np
    import keras
    from keras_electra.models import ElectraTextEmbedder, contrastive_trainer
    embedder = ElectraTextEmbedder.from_preset("electra_tiny")
    trainer = contrastive_trainer(embedder)
    ids = {"token_ids": np.array([[2, 100, 3], [2, 200, 3]]),
           "segment_ids": np.zeros((2, 3), "int32"),
           "padding_mask": np.ones((2, 3), "int32")}
    trainer.compile(optimizer="adam", loss=keras.losses.
                    SparseCategoricalCrossentropy(from_logits=True))
    trainer.fit({"anchor": ids, "positive": ids}, np.arange(2), verbose=0)
    ```
    """
    import keras

    def inputs(prefix):
        return {
            name: keras.Input((None,), dtype="int32", name=f"{prefix}_{name}")
            for name in ("token_ids", "segment_ids", "padding_mask")
        }

    anchor, positive = inputs("anchor"), inputs("positive")

    def unit(x):
        return x / ops.sqrt(
            ops.maximum(ops.sum(ops.square(x), -1, keepdims=True), 1e-12))

    similarity = ops.matmul(unit(embedder(anchor)),
                            ops.transpose(unit(embedder(positive))))
    trainer = keras.Model({"anchor": anchor, "positive": positive},
                          similarity * scale, name="contrastive_trainer")
    trainer.backbone = embedder.backbone
    return trainer


def _unit_rows(vectors):
    vectors = np.asarray(vectors, dtype="float32")
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class EmbeddingIndex:
    """A small in-memory cosine-similarity index (NumPy, exact search).

    Add vectors directly, or texts when the index has an `embedder` and a
    `preprocessor` (anything that turns a list of strings into model
    inputs, such as `keras_electra.data.ElectraClassifierPreprocessor`).
    `search` returns the `k` most similar entries, best first.

    Args:
        embedder: `ElectraTextEmbedder` or None. Defaults to `None`.
        preprocessor: callable, texts -> inputs dict. Defaults to `None`.
        batch_size: int. Batch size for embedding texts. Defaults to `64`.

    Example:
    ```python
    import numpy as np
    index = EmbeddingIndex()
    index.add(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
              texts=["east", "north", "north-east"])
    hits = index.search(np.array([0.9, 0.1]), k=2)[0]
    assert [h["text"] for h in hits] == ["east", "north-east"]
    ```
    """

    def __init__(self, embedder=None, preprocessor=None, batch_size=64):
        self.embedder = embedder
        self.preprocessor = preprocessor
        self.batch_size = batch_size
        self.vectors = None
        self.texts = []

    def __len__(self):
        return 0 if self.vectors is None else len(self.vectors)

    def save(self, folder):
        """Write `vectors.npy` and `texts.json` to `folder`.

        Example:
        ```python
        import tempfile
        import numpy as np
        folder = tempfile.mkdtemp()
        EmbeddingIndex().add(np.eye(2), texts=["x", "y"]).save(folder)
        assert EmbeddingIndex.load(folder).texts == ["x", "y"]
        ```
        """
        import json
        import os

        if not len(self):
            raise ValueError("The index is empty; call `add` first.")
        os.makedirs(folder, exist_ok=True)
        np.save(os.path.join(folder, "vectors.npy"), self.vectors)
        with open(os.path.join(folder, "texts.json"), "w",
                  encoding="utf-8") as f:
            json.dump(self.texts, f, ensure_ascii=False)
        return folder

    @classmethod
    def load(cls, folder, embedder=None, preprocessor=None, batch_size=64):
        """An index written by `save`, with a model to embed queries.

        Example:
        ```python
        import tempfile
        import numpy as np
        folder = EmbeddingIndex().add(np.eye(2)).save(tempfile.mkdtemp())
        assert len(EmbeddingIndex.load(folder)) == 2
        ```
        """
        import json
        import os

        paths = [os.path.join(folder, n) for n in ("vectors.npy",
                                                   "texts.json")]
        for path in paths:
            if not os.path.exists(path):
                raise FileNotFoundError(
                    f"'{path}' not found: '{folder}' is not an index folder "
                    "(written by EmbeddingIndex.save / keras-electra index)."
                )
        vectors = np.load(paths[0])
        with open(paths[1], encoding="utf-8") as f:
            texts = json.load(f)
        if len(texts) != len(vectors):
            raise ValueError(
                f"'{folder}': {len(vectors)} vectors but {len(texts)} texts."
            )
        index = cls(embedder, preprocessor, batch_size)
        index.vectors, index.texts = vectors, list(texts)
        return index

    def embed(self, texts):
        """Embed a list of strings with the index's preprocessor and model.

        Example:
        ```python
        index = EmbeddingIndex()  # needs embedder and preprocessor to embed
        ```
        """
        if self.embedder is None or self.preprocessor is None:
            raise ValueError(
                "EmbeddingIndex needs an `embedder` and a `preprocessor` to "
                "embed texts; pass vectors instead."
            )
        x = self.preprocessor(list(texts))
        x = {k: np.asarray(v) for k, v in x.items()}
        return np.asarray(
            self.embedder.predict(x, batch_size=self.batch_size, verbose=0)
        )

    def add(self, vectors=None, texts=None):
        """Add vectors (and their texts), or texts to embed.

        Example:
        ```python
        import numpy as np
        index = EmbeddingIndex()
        index.add(np.eye(3), texts=["a", "b", "c"])
        assert len(index) == 3
        ```
        """
        if vectors is None:
            if texts is None:
                raise ValueError("Pass `vectors`, `texts`, or both.")
            vectors = self.embed(texts)
        vectors = _unit_rows(vectors)
        if texts is None:
            texts = [None] * len(vectors)
        texts = list(texts)
        if len(texts) != len(vectors):
            raise ValueError(
                f"Received {len(vectors)} vectors but {len(texts)} texts."
            )
        if self.vectors is not None and (
            vectors.shape[1] != self.vectors.shape[1]
        ):
            raise ValueError(
                f"Received vectors of width {vectors.shape[1]}; the index "
                f"holds width {self.vectors.shape[1]}."
            )
        self.vectors = (
            vectors if self.vectors is None
            else np.concatenate([self.vectors, vectors])
        )
        self.texts.extend(texts)
        return self

    def search(self, queries, k=5):
        """Top-`k` entries by cosine similarity for each query.

        Args:
            queries: a vector, a `[n, dim]` array, a string or a list of
                strings (embedded with the index's model).
            k: int. Defaults to `5`.

        Returns:
            One list per query of dicts `{"index", "score", "text"}`.

        Example:
        ```python
        import numpy as np
        index = EmbeddingIndex().add(np.eye(2), texts=["x", "y"])
        assert index.search(np.array([0.0, 2.0]), k=1)[0][0]["text"] == "y"
        ```
        """
        if not len(self):
            raise ValueError("The index is empty; call `add` first.")
        if isinstance(queries, str):
            queries = [queries]
        if isinstance(queries, (list, tuple)) and queries and isinstance(
            queries[0], str
        ):
            queries = self.embed(queries)
        scores = _unit_rows(queries) @ self.vectors.T
        k = min(int(k), len(self))
        results = []
        for row in scores:
            top = np.argsort(-row, kind="stable")[:k]
            results.append(
                [
                    {"index": int(i), "score": float(row[i]),
                     "text": self.texts[i]}
                    for i in top
                ]
            )
        return results
