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
