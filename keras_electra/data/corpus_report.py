"""Counts of what the text readers skipped, repaired or cut."""

import dataclasses
import logging


logger = logging.getLogger("keras_electra.data")
_LOGGED = set()


@dataclasses.dataclass
class CorpusReport:
    """Summary of a pass over raw text files.

    Every reader of raw text in `keras_electra.data` (vocabulary training, the
    streaming pre-training dataset, TFRecord preparation) fills one of these
    instead of crashing on bad input. Invalid UTF-8 is replaced with U+FFFD,
    lines longer than `max_line_chars` characters are cut, files whose first
    8 KB hold a NUL byte (binary files) or that cannot be decompressed are
    skipped.

    Attributes:
        files: int. Files given, after glob expansion.
        empty_files: int. Files with zero bytes.
        skipped_files: list of `(path, reason)` for files not read.
        lines: int. Lines read (blank lines included).
        blank_lines: int. Empty or whitespace-only lines (document breaks).
        invalid_utf8_lines: int. Lines in which invalid UTF-8 was replaced.
        cut_lines: int. Lines cut to `max_line_chars` characters.
        documents: int. Non-empty documents seen.
        examples: int. Packed examples produced (pre-training only).
        tokens: int. Word pieces produced by the tokenizer.

    Example:
    ```python
    report = CorpusReport(files=2, lines=10, blank_lines=1)
    assert report.as_dict()["lines"] == 10
    ```
    """

    files: int = 0
    empty_files: int = 0
    skipped_files: list = dataclasses.field(default_factory=list)
    lines: int = 0
    blank_lines: int = 0
    invalid_utf8_lines: int = 0
    cut_lines: int = 0
    documents: int = 0
    examples: int = 0
    tokens: int = 0

    def as_dict(self):
        """Return the counts as a plain dict."""
        return dataclasses.asdict(self)

    def summary(self):
        """One line of text with every count."""
        skipped = ", ".join(f"{p} ({r})" for p, r in self.skipped_files)
        skipped = f": {skipped}" if skipped else ""
        return (
            f"{self.files} files ({self.empty_files} empty, "
            f"{len(self.skipped_files)} skipped{skipped}), "
            f"{self.lines} lines ({self.blank_lines} blank, "
            f"{self.invalid_utf8_lines} with invalid UTF-8 replaced, "
            f"{self.cut_lines} cut), {self.documents} documents, "
            f"{self.tokens} tokens, {self.examples} examples"
        )

    def log(self, prefix=None):
        """Log the summary, at INFO level (WARNING if anything was bad).

        Args:
            prefix: str or None. Says the counts cover only part of the
                corpus (e.g. `"first 512 lines"`); the file counts are
                always complete. Defaults to `None` (a full pass).
        """
        bad = (
            self.skipped_files or self.invalid_utf8_lines or self.cut_lines
        )
        level = logging.WARNING if bad else logging.INFO
        scope = (
            f" ({prefix}; the full report follows the first pass)"
            if prefix else ""
        )
        message = f"Corpus report{scope}: {self.summary()}"
        if message in _LOGGED:  # the same corpus read again (a resume, ...)
            return
        _LOGGED.add(message)
        logger.log(level, "%s", message)
