"""PNG plots of pre-training curves."""

import os


def plot_pretraining(history, path, steps_per_epoch=1):
    """Plot pre-training curves to a PNG.

    ELECTRA histories (from `ReplacedTokenDetector`) get generator loss,
    discriminator loss and discriminator accuracy against the all-original
    baseline; masked-LM histories (`MaskedLMPretrainer`) get loss and
    accuracy.

    Args:
        history: dict of metric name -> list of per-epoch values (a Keras
            `History.history`).
        path: str. PNG file to write.
        steps_per_epoch: int. Scales the x axis to training steps.

    Returns:
        The path written.

    Example:
    ```python
    plot_pretraining(
        {"generator_loss": [7.0, 6.0], "discriminator_loss": [0.6, 0.4],
         "discriminator_accuracy": [0.85, 0.9],
         "replaced_fraction": [0.14, 0.13]},
        "/tmp/curves.png",
    )
    ```
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if "discriminator_loss" in history:
        panels = [
            ("generator_loss", "Generator (masked LM) loss"),
            ("discriminator_loss", "Discriminator (RTD) loss"),
            ("discriminator_accuracy", "Discriminator accuracy"),
        ]
    else:  # MaskedLMPretrainer
        panels = [
            ("loss", "Masked LM loss"),
            ("accuracy", "Masked LM accuracy"),
        ]
    missing = [key for key, _ in panels if key not in history]
    if missing:
        raise ValueError(
            f"History lacks {missing}; got {sorted(history)}."
        )
    n = len(history[panels[0][0]])
    steps = [(i + 1) * steps_per_epoch for i in range(n)]
    figure, axes = plt.subplots(1, len(panels), figsize=(4.7 * len(panels), 4))
    for axis, (key, title) in zip(axes, panels):
        axis.plot(steps, history[key], label=key)
        axis.set_title(title)
        axis.set_xlabel("training step")
        axis.grid(alpha=0.3)
    if "replaced_fraction" in history:
        baseline = [1.0 - v for v in history["replaced_fraction"]]
        axes[2].plot(steps, baseline, "--", label="all-original baseline")
    axes[-1].legend()
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def plot_confusion_matrix(confusion, labels, path, title="Confusion matrix"):
    """Draw a confusion matrix (rows: gold, columns: predicted) to a PNG.

    Cells show the counts; the colour is the share of the gold row, so
    rare classes read as clearly as common ones.

    Example:
    ```python
    plot_confusion_matrix([[5, 1], [2, 7]], ["neg", "pos"], "/tmp/cm.png")
    ```
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    counts = np.asarray(confusion, dtype="float64")
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = max(4.0, 0.45 * len(labels) + 2.5)
    figure, axis = plt.subplots(figsize=(size + 1, size))
    image = axis.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    axis.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axis.set_yticks(range(len(labels)), labels)
    axis.set_xlabel("predicted")
    axis.set_ylabel("gold")
    axis.set_title(title)
    if len(labels) <= 30:
        for i in range(len(labels)):
            for j in range(len(labels)):
                axis.text(j, i, int(counts[i, j]), ha="center", va="center",
                          color="white" if shares[i, j] > 0.5 else "black",
                          fontsize=8)
    figure.colorbar(image, ax=axis, label="share of the gold row")
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
