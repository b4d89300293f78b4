"""Helpers shared by the SavedModel and LiteRT exporters (not public)."""

import keras

from keras_electra.models import preset_loader

INPUT_NAMES = ("token_ids", "segment_ids", "padding_mask")


def check_tensorflow_backend(what):
    """Raise a clear error unless Keras runs on the TensorFlow backend."""
    backend = keras.config.backend()
    if backend != "tensorflow":
        raise RuntimeError(
            f"{what} needs the TensorFlow backend, but Keras is running on "
            f"'{backend}'. Weights are portable across backends: save the "
            "model with `model.save_to_preset(folder)` (or `model.save("
            "'model.keras')`), then in a process started with "
            "KERAS_BACKEND=tensorflow rebuild it with "
            "`ElectraClassifier.from_preset(folder)` (or "
            "`keras.saving.load_model`) and export from there. (Exporting "
            "from JAX needs fixed shapes everywhere, and from torch it fails "
            "on dict inputs.)"
        )


def backbone_of(model):
    """The `ElectraBackbone` of a task, or the model itself."""
    return getattr(model, "backbone", model)


def check_sequence_length(model, sequence_length):
    """Validate `sequence_length` against the position table."""
    preset_loader.check_sequence_length(sequence_length, backbone_of(model))


def _is_linear(activation):
    activation = keras.activations.get(activation)
    return activation in (None, keras.activations.linear)


def named_outputs(model, outputs):
    """Name a model's outputs for a serving signature.

    Classifiers (models with `num_classes`) return `logits` and
    `probabilities` (softmax) when their outputs are logits, `scores` for
    regression (`num_classes=1`) and `probabilities` when the model already
    applies an activation. Dict outputs (backbones) keep their keys; any
    other model returns `logits`.
    """
    import tensorflow as tf

    if isinstance(outputs, dict):
        return {k: tf.cast(v, "float32") for k, v in outputs.items()}
    outputs = tf.cast(outputs, "float32")
    num_classes = getattr(model, "num_classes", None)
    if num_classes is None:
        return {"logits": outputs}
    if num_classes == 1:
        return {"scores": outputs}
    if _is_linear(getattr(model, "activation", None)):
        return {"logits": outputs, "probabilities": tf.nn.softmax(outputs)}
    return {"probabilities": outputs}


def token_id_function(model, output=None):
    """A `tf`-traceable function of the three int32 inputs -> named outputs.

    `output` keeps one output: a name from `named_outputs` (for example
    `"probabilities"`), or `"embedding"` for the model's raw float output.
    """
    import tensorflow as tf

    def serve(token_ids, segment_ids, padding_mask):
        outputs = model(
            {
                "token_ids": token_ids,
                "segment_ids": segment_ids,
                "padding_mask": padding_mask,
            },
            training=False,
        )
        if output == "embedding":
            return {"embedding": tf.cast(outputs, "float32")}
        named = named_outputs(model, outputs)
        return named if output is None else {output: named[output]}

    return serve


def token_id_specs(batch_size, sequence_length):
    """Three int32 `tf.TensorSpec`s named like the model inputs."""
    import tensorflow as tf

    return [
        tf.TensorSpec([batch_size, sequence_length], tf.int32, name=name)
        for name in INPUT_NAMES
    ]
