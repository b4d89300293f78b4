"""A dependency-free WordPiece tokenizer, as an on-device app would write it.

Pure Python (standard library only: `unicodedata`), so it ports line by line
to Kotlin, Swift or C++. It reproduces `keras_electra.data.ElectraTokenizer`
(and so Hugging Face's `BertTokenizerFast` on the same `vocab.txt`):

1. NUL, U+FFFD and control, format and private-use characters (Unicode
   categories Cc, Cf, Co) other than tab and newlines are deleted; white
   space (tab, newlines, category Zs, U+2028/2029) becomes a space.
2. CJK ideographs are surrounded by spaces.
3. Accents are stripped when `strip_accents` (default: as `lowercase`):
   NFD, then combining marks (category Mn) deleted.
4. Each character is lower-cased on its own (no NFKC, no final sigma).
5. Words are split on spaces and on punctuation (all non alphanumeric
   printable ASCII and Unicode category P*) and CJK characters, which are
   kept as their own words.
6. WordPiece: greedy longest match from the left, continuation pieces
   prefixed with `##`; a word with no full segmentation, or longer than 100
   characters, becomes `[UNK]`.
7. Packing: `[CLS] pieces[:sequence_length - 2] [SEP]`, then `[PAD]`.
"""

import unicodedata

MAX_CHARS_PER_WORD = 100
_WHITESPACE = frozenset(" \t\n\r\f")
_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def _is_cjk(char):
    code = ord(char)
    return any(low <= code <= high for low, high in _CJK_RANGES)


def _is_punctuation(char):
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96:
        return True
    if 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


class SimpleTokenizer:
    """BERT/ELECTRA WordPiece tokenization in plain Python.

    Args:
        vocabulary: list of str, or the path of a `vocab.txt` (one word piece
            a line; ids are line numbers).
        lowercase: bool. Defaults to `True`.
        strip_accents: bool or None. Defaults to `None` (as `lowercase`).
        suffix_indicator: str. Defaults to `"##"`.

    Example:
    ```python
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
             "the", "quick", "brown", "fox", "jump", "##ed", "."]
    tokenizer = SimpleTokenizer(vocab)
    assert tokenizer.tokenize("The quick brown fox jumped.") == [
        5, 6, 7, 8, 9, 10, 11]
    x = tokenizer.encode("The fox.", sequence_length=8)
    assert x["token_ids"] == [2, 5, 8, 11, 3, 0, 0, 0]
    ```
    """

    def __init__(
        self,
        vocabulary,
        lowercase=True,
        strip_accents=None,
        suffix_indicator="##",
    ):
        if isinstance(vocabulary, str):
            with open(vocabulary, encoding="utf-8") as f:
                vocabulary = [line.rstrip("\r\n").rstrip() for line in f]
        self.vocabulary = list(vocabulary)
        self.lowercase = lowercase
        self.strip_accents = (
            lowercase if strip_accents is None else strip_accents
        )
        self.suffix_indicator = suffix_indicator
        self.token_to_id = {}
        for i, token in enumerate(self.vocabulary):
            self.token_to_id.setdefault(token, i)
        for token in ("[PAD]", "[UNK]", "[CLS]", "[SEP]"):
            if token not in self.token_to_id:
                raise ValueError(
                    f"The vocabulary lacks the special token {token}. "
                    f"Received {len(self.vocabulary)} tokens starting with "
                    f"{self.vocabulary[:5]}."
                )
        self.pad_id = self.token_to_id["[PAD]"]
        self.unk_id = self.token_to_id["[UNK]"]
        self.cls_id = self.token_to_id["[CLS]"]
        self.sep_id = self.token_to_id["[SEP]"]

    def split_words(self, text):
        """Normalize and split `text` into words, as Hugging Face does.

        The steps of Hugging Face's `BertNormalizer` and `BertPreTokenizer`
        (and of `keras_electra.data.bert_normalize`): delete NUL, U+FFFD and
        control/format/private-use characters except tab and newlines; map
        white space to " "; space out CJK ideographs; strip accents (NFD,
        combining marks deleted) when `strip_accents`; lower-case each
        character when `lowercase` (no NFKC); split on spaces and
        punctuation.

        Example:
        ```python
        SimpleTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]"]).split_words(
            "Café, ok?")  # ["cafe", ",", "ok", "?"]
        ```
        """
        chars = []
        for c in text:
            if ord(c) in (0, 0xFFFD):
                continue
            category = unicodedata.category(c)
            if c not in "\t\n\r" and category in ("Cc", "Cf", "Co"):
                continue
            if c in "\t\n\r\u2028\u2029" or category == "Zs":
                chars.append(" ")
            elif _is_cjk(c):
                chars.append(f" {c} ")
            else:
                chars.append(c)
        text = "".join(chars)
        if self.strip_accents:
            text = unicodedata.normalize("NFD", text)
            text = "".join(
                c for c in text if unicodedata.category(c) != "Mn"
            )
        if self.lowercase:
            # Per character (Python's str.lower would turn a final capital
            # sigma into "ς"; Hugging Face does not).
            text = "".join(c.lower() for c in text)
        words, current = [], []
        for char in text:
            if char == " ":
                if current:
                    words.append("".join(current))
                    current = []
            elif _is_punctuation(char) or _is_cjk(char):
                if current:
                    words.append("".join(current))
                    current = []
                words.append(char)
            else:
                current.append(char)
        if current:
            words.append("".join(current))
        return words

    def word_pieces(self, word):
        """Greedy longest-match WordPiece ids of one word (step 5).

        Example:
        ```python
        vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "jump", "##ed"]
        assert SimpleTokenizer(vocab).word_pieces("jumped") == [4, 5]
        ```
        """
        if len(word) > MAX_CHARS_PER_WORD:
            return [self.unk_id]
        ids, start = [], 0
        while start < len(word):
            end = len(word)
            piece_id = None
            while start < end:
                piece = word[start:end]
                if start > 0:
                    piece = self.suffix_indicator + piece
                piece_id = self.token_to_id.get(piece)
                if piece_id is not None:
                    break
                end -= 1
            if piece_id is None:
                return [self.unk_id]
            ids.append(piece_id)
            start = end
        return ids

    def tokenize(self, text):
        """Token ids of `text`, without special tokens.

        Example:
        ```python
        vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hi", "!"]
        assert SimpleTokenizer(vocab).tokenize("Hi!") == [4, 5]
        ```
        """
        ids = []
        for word in self.split_words(text):
            ids.extend(self.word_pieces(word))
        return ids

    def encode(self, text, sequence_length=128):
        """Model inputs for one text: `[CLS] text [SEP]`, cut and padded.

        Returns a dict of int lists `token_ids`, `segment_ids` (zeros) and
        `padding_mask` (1 for real tokens), each `sequence_length` long.

        Example:
        ```python
        vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hi"]
        x = SimpleTokenizer(vocab).encode("hi hi hi", sequence_length=4)
        assert x["token_ids"] == [2, 4, 4, 3]
        ```
        """
        pieces = self.tokenize(text)[: sequence_length - 2]
        ids = [self.cls_id] + pieces + [self.sep_id]
        length = len(ids)
        pad = sequence_length - length
        return {
            "token_ids": ids + [self.pad_id] * pad,
            "segment_ids": [0] * sequence_length,
            "padding_mask": [1] * length + [0] * pad,
        }
