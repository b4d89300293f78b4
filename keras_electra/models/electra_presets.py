"""Built-in ELECTRA architectures (configs only: presets carry no weights).

Sizes follow the original ELECTRA code (google-research/electra,
`configure_pretraining.py`) and the paper's Table 6; generator widths are the
paper's fractions of the discriminator (1/4 for small and large, 1/3 for base).
A generator of width `h` has `max(1, h // 64)` heads and a feed-forward width
of `4 * h`, as in the original `get_generator_config`. `electra_small_full_generator`
is the released full-width ELECTRA-Small generator (Hugging Face
`google/electra-small-generator`). `electra_tiny` is ours, for tests and the
two-minute CPU demo.
"""

BERT_VOCABULARY_SIZE = 30522


def _config(
    num_layers,
    hidden_dim,
    embedding_dim,
    vocabulary_size=BERT_VOCABULARY_SIZE,
    max_sequence_length=512,
    num_heads=None,
    intermediate_dim=None,
):
    return {
        "vocabulary_size": vocabulary_size,
        "num_layers": num_layers,
        "num_heads": num_heads or max(1, hidden_dim // 64),
        "hidden_dim": hidden_dim,
        "intermediate_dim": intermediate_dim or 4 * hidden_dim,
        "embedding_dim": embedding_dim,
        "max_sequence_length": max_sequence_length,
        "num_segments": 2,
        "dropout": 0.1,
    }


_SMALL = _config(12, 256, 128, num_heads=4)

PRESETS = {
    "electra_tiny": {
        "description": (
            "4-layer, 128-wide discriminator with a 1/4-wide generator and an "
            "8,192-token vocabulary; for tests and the CPU demo."
        ),
        "discriminator": _config(
            4, 128, 128, vocabulary_size=8192, max_sequence_length=128,
            num_heads=2,
        ),
        "generator": _config(
            4, 32, 128, vocabulary_size=8192, max_sequence_length=128
        ),
        "training": {"learning_rate": 1e-3, "sequence_length": 128,
                     "max_predictions": 19, "warmup_steps": 100},
    },
    "electra_small": {
        "description": (
            "ELECTRA-Small: 12 layers, hidden 256, 4 heads, embeddings 128 "
            "(13.5M discriminator parameters); generator 1/4 wide."
        ),
        "discriminator": _SMALL,
        "generator": _config(12, 64, 128),
        "training": {"learning_rate": 5e-4, "sequence_length": 128,
                     "max_predictions": 19, "warmup_steps": 10000,
                     "batch_size": 128, "train_steps": 1000000},
    },
    "electra_small_full_generator": {
        "description": (
            "ELECTRA-Small with the released full-width generator (hidden "
            "256, as google/electra-small-generator)."
        ),
        "discriminator": _SMALL,
        "generator": dict(_SMALL),
        "training": {"learning_rate": 5e-4, "sequence_length": 128,
                     "max_predictions": 19, "warmup_steps": 10000,
                     "batch_size": 128, "train_steps": 1000000},
    },
    "electra_base": {
        "description": (
            "ELECTRA-Base: 12 layers, hidden 768, 12 heads (110M); generator "
            "1/3 wide."
        ),
        "discriminator": _config(12, 768, 768, num_heads=12),
        "generator": _config(12, 256, 768),
        "training": {"learning_rate": 2e-4, "sequence_length": 512,
                     "max_predictions": 79, "warmup_steps": 10000,
                     "batch_size": 256, "train_steps": 766000},
    },
    "electra_large": {
        "description": (
            "ELECTRA-Large: 24 layers, hidden 1024, 16 heads (335M); "
            "generator 1/4 wide."
        ),
        "discriminator": _config(24, 1024, 1024, num_heads=16),
        "generator": _config(24, 256, 1024),
        "training": {"learning_rate": 2e-4, "sequence_length": 512,
                     "max_predictions": 79, "warmup_steps": 10000,
                     "batch_size": 2048, "train_steps": 400000},
    },
}
