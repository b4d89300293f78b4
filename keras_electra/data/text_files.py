"""Finding, sniffing and cleaning raw text files (shared by the readers)."""

import glob
import gzip
import os
import zlib

import tensorflow as tf

from keras_electra.data.corpus_report import CorpusReport

SNIFF_BYTES = 8192
DEFAULT_MAX_LINE_CHARS = 20000


def resolve_files(files_or_globs):
    """Expand a path, a glob or a list of them into a sorted list of files.

    Raises `FileNotFoundError` naming the first path that does not exist or
    glob that matches nothing. A folder expands to the files inside it.
    """
    if isinstance(files_or_globs, (str, os.PathLike)):
        files_or_globs = [files_or_globs]
    if not files_or_globs:
        raise FileNotFoundError(
            f"No text files given. Received: {files_or_globs!r}"
        )
    resolved = []
    for item in files_or_globs:
        item = os.fspath(item)
        if glob.has_magic(item):
            matches = sorted(p for p in glob.glob(item) if os.path.isfile(p))
            if not matches:
                raise FileNotFoundError(
                    f"The glob pattern '{item}' matches no file."
                )
            resolved.extend(matches)
        elif os.path.isdir(item):
            resolved.extend(
                sorted(
                    os.path.join(item, n)
                    for n in os.listdir(item)
                    if os.path.isfile(os.path.join(item, n))
                )
            )
        elif os.path.isfile(item):
            resolved.append(item)
        else:
            raise FileNotFoundError(f"No such text file: '{item}'")
    return resolved


def is_gzip(path):
    return os.fspath(path).endswith(".gz")


def _check_gzip(path):
    """Decompress a `.gz` file to its end; return `None` or what is wrong.

    A valid header does not make a valid file: the body can be corrupt
    (`zlib.error` mid-stream) or cut short (no end-of-stream marker), and
    a streaming reader would either crash without the file's name or
    silently read half of it. Results are cached by path, size and mtime,
    so each file is checked once per process.
    """
    stat = os.stat(path)
    key = (os.path.abspath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _GZIP_CHECKED:
        reason = None
        try:
            with gzip.open(path, "rb") as f:
                while f.read(1 << 22):
                    pass
        except EOFError as e:
            reason = f"truncated gzip ({e})"
        except (OSError, zlib.error) as e:
            reason = f"corrupt gzip ({type(e).__name__}: {e})"
        _GZIP_CHECKED[key] = reason
    return _GZIP_CHECKED[key]


_GZIP_CHECKED = {}


def sniff_file(path):
    """Return `None` if `path` looks like readable text, else a reason.

    Reads the first 8 KB of a plain file; a `.gz` file is decompressed to
    its end once (see `_check_gzip`), so corrupt and truncated archives are
    named here instead of failing (or ending early) mid-training.

    Example:
    ```python
    import gzip
    with gzip.open("/tmp/cut.txt.gz", "wb") as f:
        f.write(b"some text\n" * 10000)
    data = open("/tmp/cut.txt.gz", "rb").read()
    open("/tmp/cut.txt.gz", "wb").write(data[: len(data) // 2])
    assert sniff_file("/tmp/cut.txt.gz").startswith("truncated gzip")
    ```
    """
    try:
        if is_gzip(path):
            reason = _check_gzip(path)
            if reason is not None:
                return reason
            with gzip.open(path, "rb") as f:
                head = f.read(SNIFF_BYTES)
        else:
            with open(path, "rb") as f:
                head = f.read(SNIFF_BYTES)
    except (OSError, EOFError, zlib.error) as e:
        return f"unreadable: {type(e).__name__}: {e}"
    if b"\x00" in head:
        return "binary (NUL byte in the first 8 KB)"
    return None


def readable_files(files_or_globs, report=None):
    """Resolve, sniff and count the files; return those worth reading."""
    report = report if report is not None else CorpusReport()
    paths = resolve_files(files_or_globs)
    report.files += len(paths)
    keep = []
    for path in paths:
        if os.path.getsize(path) == 0:
            report.empty_files += 1
            continue
        reason = sniff_file(path)
        if reason is not None:
            report.skipped_files.append((path, reason))
            continue
        keep.append(path)
    return keep, report


def clean_lines(lines, max_line_chars=DEFAULT_MAX_LINE_CHARS):
    """Repair a batch of raw lines in the graph.

    Args:
        lines: string tensor `[n]` of raw lines.
        max_line_chars: int. Lines are cut to this many characters.

    Returns:
        `(lines, counts)`: the lines with invalid UTF-8 replaced by U+FFFD,
        cut and stripped, and an int64 `[4]` tensor of counts
        `[lines, blank, invalid_utf8, cut]`.
    """
    fixed = tf.strings.unicode_transcode(
        lines,
        input_encoding="UTF-8",
        output_encoding="UTF-8",
        errors="replace",
        replacement_char=0xFFFD,
        replace_control_characters=False,
    )
    invalid = tf.math.not_equal(fixed, lines)
    length = tf.strings.length(fixed, unit="UTF8_CHAR")
    cut = length > max_line_chars
    fixed = tf.where(
        cut,
        tf.strings.substr(fixed, 0, max_line_chars, unit="UTF8_CHAR"),
        fixed,
    )
    fixed = tf.strings.strip(fixed)
    blank = tf.equal(fixed, "")

    def count(x):
        return tf.reduce_sum(tf.cast(x, tf.int64))

    counts = tf.stack(
        [tf.size(lines, out_type=tf.int64), count(blank), count(invalid),
         count(cut)]
    )
    return fixed, counts


def line_dataset(paths, document_breaks=True):
    """Stream lines of the files in order, `.gz` decompressed on the fly.

    With `document_breaks`, an empty line is appended after every file so a
    file's end always ends a document.
    """
    compression = ["GZIP" if is_gzip(p) else "" for p in paths]
    files = tf.data.Dataset.from_tensor_slices(
        (tf.constant(paths, tf.string), tf.constant(compression, tf.string))
    )

    def read(path, comp):
        # A file that breaks after its first 8 KB (e.g. a truncated .gz)
        # ends early with a logged warning instead of stopping the run.
        ds = tf.data.TextLineDataset(path, compression_type=comp)
        ds = ds.ignore_errors(log_warning=True)
        if document_breaks:
            ds = ds.concatenate(tf.data.Dataset.from_tensors(tf.constant("")))
        return ds

    return files.flat_map(read)


def add_counts(report, counts):
    """Add a `clean_lines` counts vector to a `CorpusReport`."""
    lines, blank, invalid, cut = (int(c) for c in counts)
    report.lines += lines
    report.blank_lines += blank
    report.invalid_utf8_lines += invalid
    report.cut_lines += cut


class Progress:
    """A progress bar (tqdm if installed, else `keras.utils.Progbar`)."""

    def __init__(self, description, unit, total=None, enabled=True):
        self.enabled = enabled
        self.count = 0
        self._bar = None
        self._progbar = None
        if not enabled:
            return
        try:
            from tqdm.auto import tqdm

            self._bar = tqdm(desc=description, unit=unit, total=total)
        except ImportError:
            import keras

            self._progbar = keras.utils.Progbar(
                total, unit_name=unit.strip()
            )

    def update(self, n):
        self.count += n
        if self._bar is not None:
            self._bar.update(n)
        elif self._progbar is not None:
            self._progbar.update(self.count)

    def close(self):
        if self._bar is not None:
            self._bar.close()


def _read_text_lines(path):
    opener = gzip.open if is_gzip(path) else open
    with opener(path, "rb") as f:
        for raw in f:
            yield raw.decode("utf-8", errors="replace")


def no_usable_text_error(files, tokenizer=None):
    """A `ValueError` naming every input file and why it gave nothing.

    Called when a pass over the corpus produced no usable line or example.
    Checks each file again in Python (only on this error path): empty,
    skipped (binary, corrupt or truncated gzip), only blank lines, or only
    characters the tokenizer drops.

    Args:
        files: str or list of str. The files, folders or globs given.
        tokenizer: callable turning a string into ids, or None.

    Example:
    ```python
    open("/tmp/blank.txt", "w").write("\\n \\n")
    error = no_usable_text_error(["/tmp/blank.txt"])
    assert "only blank lines" in str(error)
    ```
    """
    paths = resolve_files(files)
    reasons = []
    for path in paths:
        if os.path.getsize(path) == 0:
            reasons.append((path, "empty (0 bytes)"))
            continue
        reason = sniff_file(path)
        if reason is not None:
            reasons.append((path, reason))
            continue
        lines = nonblank = tokens = 0
        for line in _read_text_lines(path):
            lines += 1
            line = line.strip()
            if line:
                nonblank += 1
                if tokenizer is not None and not tokens:
                    tokens += len(list(tokenizer(line)))
        if not nonblank:
            reasons.append((path, f"only blank lines ({lines} lines)"))
        elif tokenizer is not None and not tokens:
            reasons.append(
                (path, f"{nonblank} non-blank lines, but the tokenizer "
                 "makes no word piece of them")
            )
        else:
            reasons.append((path, f"{nonblank} non-blank lines"))
    detail = "; ".join(f"{p}: {r}" for p, r in reasons)
    return ValueError(
        f"No usable text in the {len(paths)} input file(s): {detail}. "
        "Give UTF-8 text files (or .gz) with one sentence or paragraph a "
        "line and blank lines between documents."
    )
