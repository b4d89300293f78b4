"""Registration of public classes as Keras-serializable objects."""

import keras


def keras_electra_export(cls):
    """Register `cls` as Keras-serializable under the `keras_electra` package.

    Every public layer, model and task of the package goes through this one
    decorator, so `.keras` files reload without `custom_objects`.

    Example:
    ```python
    import keras
    from keras_electra.api_export import keras_electra_export

    @keras_electra_export
    class Scale(keras.layers.Layer):
        def call(self, x):
            return x * 2.0

    assert keras.saving.get_registered_name(Scale) == "keras_electra>Scale"
    ```
    """
    return keras.saving.register_keras_serializable(package="keras_electra")(
        cls
    )
