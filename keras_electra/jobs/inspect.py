"""The `inspect` job: which tokens the discriminator thinks were replaced."""

import dataclasses

import numpy as np

from keras_electra.data.tokenizer_config import load_tokenizer
from keras_electra.jobs.options import JobConfig
from keras_electra.jobs.options import option

NAME = "inspect"
HELP = "Show which tokens the discriminator thinks replaced."


@dataclasses.dataclass
class InspectConfig(JobConfig):
    """The `inspect` job's options.

    Example:
    ```python
    from keras_electra.jobs.inspect import InspectConfig, run
    run(InspectConfig(model="saved_models/electra_tiny_demo/discriminator",
                      text="the whale swam under the ship"))
    ```
    """

    required = ("model", "text")

    model: str = option(None, "Discriminator folder.")
    text: str = option(None, "Sentence to score.")
    html: str = option(None, "Also write an HTML page here.")


def inspect_text(model_dir, text, sequence_length=128):
    """Score every token of `text` with a discriminator.

    Returns a list of `(word_piece, probability_replaced)` without the
    special tokens.

    Example:
    ```python
    for piece, p in inspect_text("saved_models/electra_tiny_demo/discriminator",
                                 "the whale swam under the ship"):
        print(piece, round(p, 2))
    ```
    """
    from keras_electra.models import ElectraDiscriminator

    tokenizer = load_tokenizer(model_dir)
    model = ElectraDiscriminator.from_preset(model_dir)
    pieces = np.asarray(tokenizer(text)).tolist()[: sequence_length - 2]
    ids = [tokenizer.cls_token_id] + pieces + [tokenizer.sep_token_id]
    inputs = {
        "token_ids": np.array([ids], "int32"),
        "segment_ids": np.zeros((1, len(ids)), "int32"),
        "padding_mask": np.ones((1, len(ids)), "int32"),
    }
    logits = np.asarray(model.predict(inputs, verbose=0))[0]
    probabilities = 1.0 / (1.0 + np.exp(-logits))
    return [
        (tokenizer.id_to_token(i), float(p))
        for i, p in zip(ids[1:-1], probabilities[1:-1])
    ]


def render_terminal(scores, threshold=0.5):
    """Color word pieces by replaced-probability for a terminal (ANSI).

    Example:
    ```python
    print(render_terminal([("the", 0.1), ("whale", 0.9)]))
    ```
    """
    out = []
    for piece, p in scores:
        color = "\033[1;31m" if p >= threshold else (
            "\033[33m" if p >= threshold / 2 else "\033[32m"
        )
        out.append(f"{color}{piece}\033[0m({p:.2f})")
    return " ".join(out)


def render_html(scores, text, path):
    """Write an HTML page shading each word piece by replaced-probability.

    Example:
    ```python
    render_html([("the", 0.1), ("whale", 0.9)], "the whale", "/tmp/x.html")
    ```
    """
    import html

    spans = []
    for piece, p in scores:
        spans.append(
            f'<span title="p(replaced)={p:.3f}" style="background: '
            f'rgba(220, 40, 40, {p:.3f}); padding: 2px 3px; margin: 1px; '
            f'border-radius: 3px">{html.escape(piece)}</span>'
        )
    page = (
        "<!doctype html><meta charset='utf-8'><title>keras_electra inspect"
        "</title><body style='font-family: sans-serif; max-width: 60em'>"
        f"<h2>Replaced-token detection</h2><p>{html.escape(text)}</p>"
        f"<p style='line-height: 2.2'>{''.join(spans)}</p>"
        "<p>Red = the discriminator believes the word piece was replaced."
        "</p></body>"
    )
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    return path


def run(config):
    """`(word_piece, probability_replaced)` pairs of `config.text`."""
    config.validate()
    return inspect_text(config.model, config.text)


def report(config, scores):
    print(render_terminal(scores))
    if config.html:
        print("wrote", render_html(scores, config.text, config.html))


# The config the command line is built from.
Config = InspectConfig
