"""TensorFlow's `saved_model_cli` with the TF Text ops registered.

The text signature of an exported ELECTRA SavedModel tokenizes with TF Text
ops, which TensorFlow itself does not register, so the stock
`saved_model_cli run` stops with "Op type not registered 'NormalizeUTF8'".
This entry point imports `tensorflow_text` first and then runs the same CLI
with the same arguments.

Example:
```
python -m keras_electra.export.saved_model_cli run --dir /tmp/serving/1 \\
    --tag_set serve --signature_def serving_default \\
    --input_exprs 'text=["a good film"]'
```
"""

import sys


def main(argv=None):
    """Run `saved_model_cli` with TF Text ops loaded; returns the exit code.

    Example:
    ```python
    main(["saved_model_cli", "show", "--dir", "/tmp/serving/1", "--all"])
    ```
    """
    import tensorflow_text  # noqa: F401  (registers the TF Text ops)
    from tensorflow.python.tools import saved_model_cli

    sys.argv = list(argv) if argv is not None else ["saved_model_cli"] + sys.argv[1:]
    return saved_model_cli.main()


if __name__ == "__main__":
    sys.exit(main())
