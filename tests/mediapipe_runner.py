"""Runs `.tflite` files in MediaPipe Tasks on raw text (its own venv).

MediaPipe pins an older protobuf than TensorFlow 2.20, so it lives in
`.venv-mediapipe` (made by `make test`) and the tests drive this script in a
subprocess. It imports only MediaPipe and numpy.

    .venv-mediapipe/bin/python tests/mediapipe_runner.py classify \
        model.tflite texts.json out.json
    .venv-mediapipe/bin/python tests/mediapipe_runner.py embed \
        model.tflite texts.json out.json
    .venv-mediapipe/bin/python tests/mediapipe_runner.py time \
        model.tflite texts.json out.json   # latency per call, ms

`writer_json` (texts.json holding `{"vocab": path, "labels": [...]}`)
compares our metadata with MediaPipe's own writer's. `classify` writes, per
text, the scores in label order and the label names;
`embed` one float vector per text; `time` the per-call latencies.
"""

import io
import json
import sys
import time
import zipfile


def _classifier(model):
    from mediapipe.tasks import python as mp_python
    from mediapipe.tasks.python import text as mp_text

    options = mp_text.TextClassifierOptions(
        base_options=mp_python.BaseOptions(model_asset_path=model)
    )
    return mp_text.TextClassifier.create_from_options(options)


def classify(model, texts):
    with _classifier(model) as classifier:
        scores, labels = [], None
        for text in texts:
            categories = classifier.classify(text).classifications[0]
            ordered = sorted(categories.categories, key=lambda c: c.index)
            labels = [c.category_name for c in ordered]
            scores.append([c.score for c in ordered])
    return {"scores": scores, "labels": labels}


def embed(model, texts):
    from mediapipe.tasks import python as mp_python
    from mediapipe.tasks.python import text as mp_text

    options = mp_text.TextEmbedderOptions(
        base_options=mp_python.BaseOptions(model_asset_path=model)
    )
    with mp_text.TextEmbedder.create_from_options(options) as embedder:
        return {
            "embeddings": [
                [float(v) for v in embedder.embed(t).embeddings[0].embedding]
                for t in texts
            ]
        }


def latency(model, texts):
    with _classifier(model) as classifier:
        for text in texts[:10]:  # warm-up
            classifier.classify(text)
        times = []
        for text in texts:
            start = time.perf_counter()
            classifier.classify(text)
            times.append((time.perf_counter() - start) * 1e3)
    return {"milliseconds": times}


def writer_json(model, request):
    """Our metadata as MediaPipe reads it, beside its own writer's output.

    MediaPipe's `text_classifier.MetadataWriter` writes its metadata into a
    copy of the same model (replacing ours); both are shown as MediaPipe's
    `MetadataDisplayer` JSON.
    """
    from mediapipe.tasks.python.metadata import metadata
    from mediapipe.tasks.python.metadata.metadata_writers import (
        metadata_writer,
        text_classifier,
    )

    with open(model, "rb") as f:
        buffer = bytearray(f.read())
    ours = metadata.MetadataDisplayer.with_model_buffer(buffer)
    # The writer refuses files packed already: give it the model part only
    # (the bytes before the packed files' zip archive).
    with zipfile.ZipFile(io.BytesIO(bytes(buffer))) as zf:
        start = min(info.header_offset for info in zf.infolist())
    writer = text_classifier.MetadataWriter.create_for_bert_model(
        buffer[:start],
        metadata_writer.BertTokenizer(request["vocab"]),
        metadata_writer.Labels().add(request["labels"]),
        ids_name="serving_default_token_ids:0",
        mask_name="serving_default_padding_mask:0",
        segment_name="serving_default_segment_ids:0",
    )
    _, theirs = writer.populate()
    return {
        "ours": json.loads(ours.get_metadata_json()),
        "ours_files": sorted(ours.get_packed_associated_file_list()),
        "theirs": json.loads(theirs),
    }


def main():
    verb, model, texts_path, out_path = sys.argv[1:5]
    with open(texts_path, encoding="utf-8") as f:
        texts = json.load(f)
    verbs = {"classify": classify, "embed": embed, "time": latency,
             "writer_json": writer_json}
    result = verbs[verb](model, texts)
    import mediapipe

    result["mediapipe_version"] = mediapipe.__version__
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
