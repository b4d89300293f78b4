"""The version of keras_electra (kept apart so any module can read it)."""

__version__ = "0.1.0"
