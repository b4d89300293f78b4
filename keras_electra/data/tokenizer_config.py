"""Casing settings saved beside a vocabulary, as Hugging Face saves them.

A `vocab.txt` alone does not say whether its tokenizer lower-cases: a cased
vocabulary read by a lower-casing tokenizer silently loses every capital
(and every id of a capitalised word piece). Hugging Face writes the setting
to `tokenizer_config.json` (`do_lower_case`, `strip_accents`) and keras-hub
to `tokenizer.json` (`lowercase`, `strip_accents`); this module reads both
and writes the first, so a folder saved here loads with the right casing in
keras_electra and in `transformers.AutoTokenizer`.
"""

import json
import logging
import os

TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
KERAS_HUB_TOKENIZER_FILE = "tokenizer.json"

logger = logging.getLogger(__name__)


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: not a readable JSON file ({error}).")


def _check_bool(path, key, value, allow_none=False):
    if value is None and allow_none:
        return None
    if not isinstance(value, bool):
        raise ValueError(
            f"{path}: '{key}' is {value!r}; it must be true or false"
            + (" (or null)." if allow_none else ".")
        )
    return value


def _vocabulary_has_capitals(vocabulary_file):
    with open(vocabulary_file, encoding="utf-8") as f:
        for line in f:
            token = line.rstrip("\n")
            if token.startswith("[") and token.endswith("]"):
                continue  # [CLS], [unused0], ...
            if token.lower() != token:
                return True
    return False


def read_tokenizer_settings(folder, vocabulary_file=None):
    """Return `{"lowercase": bool, "strip_accents": bool or None}`.

    Reads, in this order, Hugging Face's `tokenizer_config.json`
    (`do_lower_case`, default `True` as in `BertTokenizer`; `strip_accents`,
    `None` meaning "follow `lowercase`") and keras-hub's `tokenizer.json`
    (`config.lowercase`, `config.strip_accents`) in `folder`. With neither,
    the casing is inferred from `vocabulary_file`: a vocabulary holding
    capital letters outside its `[...]` special tokens was trained cased
    (an uncased one has none), and a log line says so.

    Example:
    ```python
    import os, tempfile
    folder = tempfile.mkdtemp()
    write_tokenizer_config(folder, lowercase=False)
    assert read_tokenizer_settings(folder)["lowercase"] is False
    ```
    """
    path = os.path.join(folder, TOKENIZER_CONFIG_FILE)
    if os.path.exists(path):
        config = _read_json(path)
        return {
            "lowercase": _check_bool(
                path, "do_lower_case", config.get("do_lower_case", True)
            ),
            "strip_accents": _check_bool(
                path, "strip_accents", config.get("strip_accents"), True
            ),
        }
    path = os.path.join(folder, KERAS_HUB_TOKENIZER_FILE)
    if os.path.exists(path):
        config = _read_json(path).get("config", {})
        if "lowercase" in config:
            return {
                "lowercase": _check_bool(path, "lowercase", config["lowercase"]),
                "strip_accents": _check_bool(
                    path, "strip_accents", config.get("strip_accents"), True
                ),
            }
    if vocabulary_file and os.path.exists(vocabulary_file):
        cased = _vocabulary_has_capitals(vocabulary_file)
        logger.info(
            "No %s beside %s: its vocabulary %s capital letters, so the "
            "tokenizer %s lower-case (write %s to say so).",
            TOKENIZER_CONFIG_FILE, vocabulary_file,
            "holds" if cased else "holds no", "does not" if cased else "does",
            TOKENIZER_CONFIG_FILE,
        )
        return {"lowercase": not cased, "strip_accents": None}
    return {"lowercase": True, "strip_accents": None}


def write_tokenizer_config(folder, lowercase=True, strip_accents=None):
    """Write Hugging Face's `tokenizer_config.json` for an ELECTRA vocabulary.

    With `vocab.txt` beside it, `transformers.AutoTokenizer.from_pretrained`
    builds the same tokenizer, and `read_tokenizer_settings` reads it back.
    Returns the path written.

    Example:
    ```python
    import tempfile
    path = write_tokenizer_config(tempfile.mkdtemp(), lowercase=False)
    ```
    """
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, TOKENIZER_CONFIG_FILE)
    config = {
        "tokenizer_class": "ElectraTokenizer",
        "do_lower_case": bool(lowercase),
        "strip_accents": None if strip_accents is None else bool(strip_accents),
        "tokenize_chinese_chars": True,
        "unk_token": "[UNK]",
        "sep_token": "[SEP]",
        "pad_token": "[PAD]",
        "cls_token": "[CLS]",
        "mask_token": "[MASK]",
    }
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    os.replace(tmp, path)
    return path


def save_tokenizer_files(tokenizer, folder, vocabulary_name="vocab.txt"):
    """Write `tokenizer`'s `vocab.txt` and `tokenizer_config.json` to `folder`.

    Example:
    ```python
    import tempfile
    from keras_electra.data import ElectraTokenizer
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "A"]
    save_tokenizer_files(ElectraTokenizer(vocab, lowercase=False),
                         tempfile.mkdtemp())
    ```
    """
    os.makedirs(folder, exist_ok=True)
    tokenizer.save_vocabulary(os.path.join(folder, vocabulary_name))
    lowercase = bool(tokenizer.lowercase)
    strip_accents = bool(tokenizer.strip_accents)
    return write_tokenizer_config(
        folder, lowercase,
        # None ("follow lowercase") when it does, as Hugging Face writes it.
        None if strip_accents == lowercase else strip_accents,
    )


def tokenizer_from_vocabulary(
    vocabulary_file, lowercase=None, strip_accents=None, settings_folder=None
):
    """An `ElectraTokenizer` for a `vocab.txt`, cased as it was trained.

    `lowercase` / `strip_accents` left at `None` come from
    `read_tokenizer_settings(settings_folder or the vocabulary's folder)`;
    given, they override it (the `--cased` flags).

    Example:
    ```python
    from keras_electra.data import bundled_vocabulary_file
    tokenizer = tokenizer_from_vocabulary(bundled_vocabulary_file())
    assert tokenizer.lowercase
    ```
    """
    from keras_electra.data.electra_tokenizer import ElectraTokenizer

    folder = settings_folder or os.path.dirname(os.path.abspath(vocabulary_file))
    settings = read_tokenizer_settings(folder, vocabulary_file)
    if lowercase is None:
        lowercase = settings["lowercase"]
        if strip_accents is None:
            strip_accents = settings["strip_accents"]
    return ElectraTokenizer(
        vocabulary=vocabulary_file, lowercase=lowercase,
        strip_accents=strip_accents,
    )


def load_tokenizer(model_dir, lowercase=None, strip_accents=None):
    """Load the `ElectraTokenizer` stored beside a model, cased as trained.

    Looks for `vocab.txt` (Hugging Face and keras_electra folders) or
    `vocabulary.txt` (keras-hub's assets) in `model_dir` and its `assets/`.
    The casing comes from the folder's `tokenizer_config.json`
    (`do_lower_case`, `strip_accents`) or keras-hub's `tokenizer.json`, else
    from the vocabulary itself (see `read_tokenizer_settings`); `lowercase`
    and `strip_accents` override it.

    Example:
    ```python
    from keras_electra.data import bundled_vocabulary_file
    tokenizer = load_tokenizer(os.path.dirname(bundled_vocabulary_file()))
    ```
    """
    candidates = [
        os.path.join(model_dir, "vocab.txt"),
        os.path.join(model_dir, "vocabulary.txt"),
        os.path.join(model_dir, "assets", "tokenizer", "vocabulary.txt"),
    ]
    for path in candidates:
        if os.path.exists(path):
            return tokenizer_from_vocabulary(
                path, lowercase, strip_accents, settings_folder=model_dir
            )
    raise FileNotFoundError(
        f"No vocabulary beside the model in '{model_dir}': looked for "
        f"{', '.join(os.path.basename(p) for p in candidates)}. Copy the "
        "vocab.txt the model was trained with into that folder."
    )
