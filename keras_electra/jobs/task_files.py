"""Readers for the user's own task files, with errors that name the row.

- Tables (`.csv`, `.tsv`/`.tab`, `.jsonl`/`.ndjson`): one example a row,
  columns chosen by name (`read_table`). Sentence and pair classification,
  and the embedder's pairs.
- CoNLL-style files (`read_conll`): one token a line (`word ... tag`, the
  columns split on whitespace), a blank line between sentences,
  `-DOCSTART-` lines ignored. Token classification.
- SQuAD v1.1 / v2.0 JSON (`read_squad`). Extractive question answering.
- Plain text (`read_lines`): one text a line, blank lines ignored.

A bad row (a missing column, an empty text, a label that is not one of the
model's, a malformed line, an answer that is not in its passage) raises a
`ValueError` that starts with `"<file>, line <n>:"`; with
`skip_bad_rows=True` such rows are dropped and counted instead
(`Rows.skipped`, and one warning that quotes the first).
"""

import csv
import dataclasses
import json
import logging
import os

TABLE_FORMATS = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl",
    ".ndjson": "jsonl", ".json": "jsonl",
}


@dataclasses.dataclass
class Rows:
    """Examples read from one file.

    `inputs` is what the task model takes (texts, `(texts, pairs)`, word
    lists or `(questions, contexts)`), `targets` the labels (or `None` for
    unlabelled files), `lines` the line of each example, `keys` one string
    per example (what the split check fingerprints), `skipped` the number
    of bad rows dropped, `extra` format-specific fields (question ids,
    all gold answers).
    """

    path: str
    inputs: object
    targets: object
    lines: list
    keys: list
    skipped: int = 0
    extra: dict = dataclasses.field(default_factory=dict)

    def __len__(self):
        return len(self.lines)


class BadRows:
    """Raise at the first bad row, or count them (`skip=True`).

    Example:
    ```python
    bad = BadRows("data.csv", skip=True)
    bad("data.csv", 3, "empty text")
    assert bad.count == 1
    ```
    """

    def __init__(self, path, skip=False):
        self.path = path
        self.skip = skip
        self.count = 0
        self.first = None

    def __call__(self, path, line, message):
        where = f"{path}, line {line}: {message}"
        if not self.skip:
            raise ValueError(
                where + " (fix the row, or pass --skip-bad-rows / "
                "skip_bad_rows=True to drop such rows)."
            )
        self.count += 1
        self.first = self.first or where

    def finish(self, found, what="examples"):
        if self.count:
            logging.getLogger(__name__).warning(
                "Skipped %d bad row(s) of '%s'; the first: %s", self.count,
                self.path, self.first,
            )
        if not found:
            raise ValueError(
                f"{self.path}: no usable {what}"
                + (f" ({self.count} bad row(s) skipped; the first: "
                   f"{self.first})" if self.count else "") + "."
            )


def _check_file(path):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Task file '{path}' not found.")


def table_format(path):
    """`"csv"`, `"tsv"` or `"jsonl"` from the file's extension.

    Example:
    ```python
    assert table_format("train.tsv") == "tsv"
    ```
    """
    ext = os.path.splitext(path)[1].lower()
    if ext not in TABLE_FORMATS:
        raise ValueError(
            f"{path}: cannot tell the table format from the extension "
            f"'{ext}'; use one of {', '.join(sorted(TABLE_FORMATS))} (CSV, "
            "tab-separated, JSON Lines)."
        )
    return TABLE_FORMATS[ext]


def _table_records(path, bad):
    """`(line, dict)` of every data row; the column names (None: JSONL)."""
    fmt = table_format(path)
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        if fmt == "jsonl":
            records = []
            for line, text in enumerate(f, 1):
                if not text.strip():
                    continue
                try:
                    record = json.loads(text)
                except json.JSONDecodeError as e:
                    bad(path, line, f"not valid JSON ({e.msg}, column "
                        f"{e.colno})")
                    continue
                if not isinstance(record, dict):
                    bad(path, line, "a JSON Lines row must be an object "
                        f"{{\"column\": value, ...}}; found "
                        f"{type(record).__name__}")
                    continue
                records.append((line, record))
            return records, None
        # Tab-separated files are read as written: quotes are text.
        reader = csv.DictReader(f, delimiter=",") if fmt == "csv" else (
            csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
        records = []
        for record in reader:
            line = reader.line_num
            if None in record or None in record.values():
                fields = sum(v is not None for k, v in record.items()
                             if k is not None) + len(record.get(None, []))
                bad(path, line, f"{fields} field(s) where the header (line "
                    f"1) has {len(reader.fieldnames)}")
                continue
            records.append((line, record))
        return records, list(reader.fieldnames or [])


def _value(record, column):
    value = record.get(column)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return None if value is None else str(value)


def read_table(path, columns, labels=None, skip_bad_rows=False):
    """Read the named columns of a CSV, TSV or JSON Lines file.

    Args:
        path: str. The file; its extension gives the format.
        columns: dict of role -> column name, e.g. `{"text": "sentence",
            "label": "label"}`. A role whose column is `None` is not read.
            Every value must be present and non-empty.
        labels: list of str or None. When given, the `"label"` column
            must hold one of them (a model's classes).
        skip_bad_rows: bool. Drop bad rows (counted) instead of raising.

    Returns:
        `(rows, lines, skipped)`: a list of dicts role -> str, the line of
        each, and the number of rows dropped.

    Example:
    ```python
    import tempfile
    path = tempfile.mktemp(suffix=".tsv")
    open(path, "w").write("text\\tlabel\\na fine film\\tpos\\n")
    rows, lines, _ = read_table(path, {"text": "text", "label": "label"})
    assert rows == [{"text": "a fine film", "label": "pos"}]
    assert lines == [2]
    ```
    """
    _check_file(path)
    columns = {role: name for role, name in columns.items() if name}
    bad = BadRows(path, skip_bad_rows)
    records, header = _table_records(path, bad)
    if header is not None:
        missing = [name for name in columns.values() if name not in header]
        if missing:
            flags = {"text": "--text-column", "pair": "--pair-column",
                     "label": "--label-column"}
            hint = ", ".join(flags.get(role, role) for role, name in
                             columns.items() if name in missing)
            raise ValueError(
                f"{path}, line 1: no column {', '.join(map(repr, missing))} "
                f"in the header {header}; name the columns with {hint}."
            )
    rows, lines = [], []
    for line, record in records:
        row = {role: _value(record, name) for role, name in columns.items()}
        empty = [columns[r] for r, v in row.items() if not (v or "").strip()]
        if empty:
            bad(path, line, f"no value in column(s) "
                f"{', '.join(map(repr, empty))}")
            continue
        if labels is not None and row.get("label") not in labels:
            bad(path, line, f"label {row['label']!r} is not one of the "
                f"model's labels {list(labels)}")
            continue
        rows.append(row)
        lines.append(line)
    bad.finish(len(rows), "rows")
    return rows, lines, bad.count


def read_conll(path, word_column=0, tag_column=-1, labels=None,
               labeled=True, skip_bad_rows=False):
    """Sentences of a CoNLL-style file: one token a line, blank-separated.

    Columns are split on whitespace (tabs or spaces); `word_column` and
    `tag_column` pick the word and the tag (negative counts from the end,
    so the default reads `word tag` and `word pos chunk tag` alike).
    `-DOCSTART-` lines are ignored. A token line without the tag column
    (when `labeled`), or whose tag is not one of `labels`, is a bad row;
    skipping it drops its sentence.

    Returns:
        `(sentences, lines, skipped)`: a list of `(words, tags)` (tags
        `None` when not `labeled`), the line of each sentence's first
        token, the number of sentences dropped.

    Example:
    ```python
    import tempfile
    path = tempfile.mktemp(suffix=".conll")
    open(path, "w").write("New B-loc\\nYork I-loc\\n\\nHi O\\n")
    sentences, lines, _ = read_conll(path)
    assert sentences[0] == (["New", "York"], ["B-loc", "I-loc"])
    assert lines == [1, 4]
    ```
    """
    _check_file(path)
    bad = BadRows(path, skip_bad_rows)
    sentences, lines = [], []
    words, tags, first, broken = [], [], None, False

    def end_sentence():
        if words and not broken:
            sentences.append((list(words), list(tags) if labeled else None))
            lines.append(first)

    with open(path, encoding="utf-8", errors="replace") as f:
        for line, text in enumerate(f, 1):
            fields = text.split()
            if not fields or fields[0] == "-DOCSTART-":
                end_sentence()
                words, tags, first, broken = [], [], None, False
                continue
            first = first or line
            needed = [word_column] + ([tag_column] if labeled else [])
            if any(c >= len(fields) or c < -len(fields) for c in needed) or (
                labeled and word_column % len(fields) == tag_column % len(
                    fields)
            ):
                bad(path, line, f"{len(fields)} column(s) {fields!r}; "
                    f"expected the word in column {word_column} and the "
                    f"tag in column {tag_column}")
                broken = True
                continue
            if labeled and labels is not None and (
                fields[tag_column] not in labels
            ):
                bad(path, line, f"tag {fields[tag_column]!r} is not one of "
                    f"the model's tags {list(labels)}")
                broken = True
                continue
            words.append(fields[word_column])
            if labeled:
                tags.append(fields[tag_column])
        end_sentence()
    bad.finish(len(sentences), "sentences")
    return sentences, lines, bad.count


def _json_line(raw, needle, start=0):
    """The line of the first `needle` in `raw` at or after `start`."""
    at = raw.find(needle, start)
    return (raw.count("\n", 0, at) + 1 if at >= 0 else None), at


def read_squad(path, skip_bad_rows=False):
    """Questions of a SQuAD v1.1 or v2.0 JSON file.

    Every question needs an `id`, a `question` and (unless
    `is_impossible`) answers whose `text` is found at `answer_start` in
    the paragraph's `context`; a question that breaks this is a bad row,
    named by its line and id.

    Returns:
        dict of lists: `ids`, `questions`, `contexts`, `answers` (the
        first answer as `{"text", "answer_start"}`, `None` when
        unanswerable), `golds` (every gold answer text), `lines`; and
        `version` (`"1.1"` or `"2.0"`) and `skipped`.

    Example:
    ```python
    import json, tempfile
    path = tempfile.mktemp(suffix=".json")
    json.dump({"version": "1.1", "data": [{"paragraphs": [{
        "context": "Call me Ishmael.",
        "qas": [{"id": "q1", "question": "Who?",
                 "answers": [{"text": "Ishmael", "answer_start": 8}]}],
    }]}]}, open(path, "w"))
    squad = read_squad(path)
    assert squad["answers"][0]["text"] == "Ishmael"
    ```
    """
    _check_file(path)
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ValueError(
            f"{path}, line {e.lineno}: not valid JSON ({e.msg}, column "
            f"{e.colno})."
        ) from None
    if not isinstance(document, dict) or not isinstance(
        document.get("data"), list
    ):
        raise ValueError(
            f"{path}: not a SQuAD file (expected an object with a 'data' "
            "list of articles, each with 'paragraphs' of 'context' and "
            "'qas')."
        )
    bad = BadRows(path, skip_bad_rows)
    result = {k: [] for k in ("ids", "questions", "contexts", "answers",
                              "golds", "lines")}
    impossible_seen = False
    for where, line, qa, context in _squad_questions(document, raw):
        problem = _squad_problem(qa, context)
        if problem:
            bad(path, line, f"question {where} (id {qa.get('id')!r}): "
                f"{problem}")
            continue
        impossible = bool(qa.get("is_impossible")) or not qa.get("answers")
        impossible_seen = impossible_seen or "is_impossible" in qa
        answers = [] if impossible else qa["answers"]
        result["ids"].append(str(qa["id"]))
        result["questions"].append(qa["question"])
        result["contexts"].append(context)
        result["answers"].append(
            {"text": answers[0]["text"],
             "answer_start": int(answers[0]["answer_start"])}
            if answers else None
        )
        result["golds"].append([x["text"] for x in answers])
        result["lines"].append(line)
    bad.finish(len(result["ids"]), "questions")
    version = str(document.get("version", "")).lstrip("v")
    result["version"] = "2.0" if impossible_seen or version.startswith(
        "2") else "1.1"
    result["skipped"] = bad.count
    return result


def _squad_questions(document, raw):
    """`(where, line, qa, context)` of every question, in file order; the
    line is that of the question's `"id"` in `raw` (`"?"` if not found)."""
    cursor = 0
    for a, article in enumerate(document["data"]):
        for p, paragraph in enumerate(article.get("paragraphs") or []):
            context = paragraph.get("context")
            for q, qa in enumerate(paragraph.get("qas") or []):
                line, at = _json_line(raw, json.dumps(qa.get("id")), cursor)
                cursor = max(cursor, at)
                yield (f"data[{a}].paragraphs[{p}].qas[{q}]", line or "?",
                       qa, context)


def _squad_problem(qa, context):
    if not isinstance(context, str) or not context.strip():
        return "its paragraph has no 'context' text"
    if qa.get("id") is None:
        return "no 'id'"
    if not str(qa.get("question") or "").strip():
        return "no 'question' text"
    if qa.get("is_impossible"):
        return None
    for answer in qa.get("answers") or []:
        text, start = answer.get("text"), answer.get("answer_start")
        if not isinstance(text, str) or not isinstance(start, int):
            return (f"answer {answer!r} needs a 'text' string and an "
                    "'answer_start' integer")
        if context[start:start + len(text)] != text:
            return (f"answer {text!r} is not at answer_start {start} of "
                    f"the context (found "
                    f"{context[start:start + len(text)]!r})")
    return None


def read_lines(path):
    """Non-blank lines of a text file (stripped), with their line numbers.

    Example:
    ```python
    import tempfile
    path = tempfile.mktemp(suffix=".txt")
    open(path, "w").write("first\\n\\nsecond\\n")
    assert read_lines(path) == (["first", "second"], [1, 3])
    ```
    """
    _check_file(path)
    texts, lines = [], []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line, text in enumerate(f, 1):
            if text.strip():
                texts.append(text.strip())
                lines.append(line)
    if not texts:
        raise ValueError(f"{path}: no text (every line is blank).")
    return texts, lines


def discover_labels(values, first=None):
    """The distinct labels, sorted (numerically when all are integers).

    `first` (e.g. `"O"` for tags) goes first when present.

    Example:
    ```python
    assert discover_labels(["10", "2", "2"]) == ["2", "10"]
    assert discover_labels(["B-x", "O", "I-x"], first="O") == [
        "O", "B-x", "I-x"]
    ```
    """
    distinct = set(values)
    try:
        ordered = sorted(distinct, key=int)
    except ValueError:
        ordered = sorted(distinct)
    if first in distinct:
        ordered.remove(first)
        ordered.insert(0, first)
    return ordered
