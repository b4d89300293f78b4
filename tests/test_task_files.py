"""Task-file readers: every bad row is named by file and line, or skipped
and counted; labels are discovered; columns are chosen by name."""

import json

import pytest

from keras_electra.jobs import heads
from keras_electra.jobs.finetune import FinetuneConfig
from keras_electra.jobs.task_files import discover_labels
from keras_electra.jobs.task_files import read_conll
from keras_electra.jobs.task_files import read_lines
from keras_electra.jobs.task_files import read_squad
from keras_electra.jobs.task_files import read_table


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_tables_in_three_formats_give_the_same_rows(tmp_path):
    rows = [("a fine film", "is it good?", "pos"),
            ("a dull, long film", "is it good?", "neg")]
    csv_path = _write(tmp_path / "d.csv", "review,question,y\n" + "".join(
        f'"{t}",{q},{y}\n' for t, q, y in rows))
    tsv_path = _write(tmp_path / "d.tsv", "review\tquestion\ty\n" + "".join(
        f"{t}\t{q}\t{y}\n" for t, q, y in rows))
    jsonl_path = _write(tmp_path / "d.jsonl", "".join(
        json.dumps({"review": t, "question": q, "y": y}) + "\n\n"
        for t, q, y in rows))
    config = FinetuneConfig(text_column="review", pair_column="question",
                            label_column="y")
    for path in (csv_path, tsv_path, jsonl_path):
        read = heads.read("classifier", path, config)
        assert read.inputs == ([r[0] for r in rows], [r[1] for r in rows])
        assert read.targets == ["pos", "neg"]
    assert heads.read("classifier", jsonl_path, config).lines == [1, 3]
    assert heads.read("classifier", csv_path, config).lines == [2, 3]
    # Discovered classes: sorted, numerically when they are integers.
    assert heads.labels("classifier", read) == ["neg", "pos"]
    assert discover_labels(["10", "9", "10", "1"]) == ["1", "9", "10"]


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("d.csv", "text,label\ngood,1\n,0\n",
         "d.csv, line 3: no value in column(s) 'text'"),
        ("d.csv", "text,label\ngood,1\nbad\n",
         "d.csv, line 3: 1 field(s) where the header (line 1) has 2"),
        ("d.tsv", "text\tlabel\ngood\t1\nbad\t0\textra\n",
         "d.tsv, line 3: 3 field(s) where the header (line 1) has 2"),
        ("d.jsonl", '{"text": "good", "label": 1}\n{"text": "bad", \n',
         "d.jsonl, line 2: not valid JSON"),
        ("d.jsonl", '{"text": "good", "label": 1}\n["bad", 0]\n',
         "d.jsonl, line 2: a JSON Lines row must be an object"),
        ("d.jsonl", '{"text": "good", "label": 1}\n{"text": "bad"}\n',
         "d.jsonl, line 2: no value in column(s) 'label'"),
    ],
)
def test_bad_table_rows_name_file_and_line_or_are_skipped(
    tmp_path, name, text, message
):
    path = _write(tmp_path / name, text)
    columns = {"text": "text", "label": "label"}
    with pytest.raises(ValueError, match="--skip-bad-rows") as error:
        read_table(path, columns)
    assert message in str(error.value)
    rows, lines, skipped = read_table(path, columns, skip_bad_rows=True)
    assert rows == [{"text": "good", "label": "1"}]
    assert (lines, skipped) == ([2 if name != "d.jsonl" else 1], 1)


def test_table_header_and_label_errors(tmp_path):
    path = _write(tmp_path / "d.csv", "sentence,label\ngood,pos\nbad,meh\n")
    with pytest.raises(ValueError, match=r"d.csv, line 1: no column 'text' "
                       r"in the header \['sentence', 'label'\]; name the "
                       "columns with --text-column"):
        read_table(path, {"text": "text", "label": "label"})
    # A label the model does not know (evaluating a file): named.
    with pytest.raises(ValueError, match=r"d.csv, line 3: label 'meh' is "
                       r"not one of the model's labels \['neg', 'pos'\]"):
        read_table(path, {"text": "sentence", "label": "label"},
                   labels=["neg", "pos"])
    with pytest.raises(ValueError, match="cannot tell the table format"):
        read_table(_write(tmp_path / "d.xlsx", "x"), {"text": "text"})
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        read_table(str(tmp_path / "nope.csv"), {"text": "text"})
    only_bad = _write(tmp_path / "e.csv", "text,label\n,1\n,2\n")
    with pytest.raises(ValueError, match=r"e.csv: no usable rows \(2 bad "
                       r"row\(s\) skipped; the first: .*e.csv, line 2"):
        read_table(only_bad, {"text": "text", "label": "label"},
                   skip_bad_rows=True)


def test_conll_sentences_columns_and_bad_lines(tmp_path):
    path = _write(
        tmp_path / "ner.conll",
        "-DOCSTART- -X- O\n\nNew NNP B-loc\nYork NNP I-loc\n\t\n"
        "Hi UH O\nthere RB O\n\n\nbroken\nline O\n\nok O\n",
    )
    with pytest.raises(ValueError, match=r"ner.conll, line 10: 1 column\(s\) "
                       r"\['broken'\]; expected the word in column 0 and "
                       "the tag in column -1"):
        read_conll(path)
    sentences, lines, skipped = read_conll(path, skip_bad_rows=True)
    assert sentences == [(["New", "York"], ["B-loc", "I-loc"]),
                         (["Hi", "there"], ["O", "O"]), (["ok"], ["O"])]
    assert (lines, skipped) == ([3, 6, 13], 1)
    # The POS column instead; words only (prediction input).
    pos, _, _ = read_conll(path, tag_column=1, skip_bad_rows=True)
    assert pos[0] == (["New", "York"], ["NNP", "NNP"])
    words, _, _ = read_conll(path, labeled=False)
    assert words[2] == (["broken", "line"], None)
    with pytest.raises(ValueError, match=r"line 6: tag 'O' is not one of "
                       r"the model's tags \['B-loc', 'I-loc'\]"):
        read_conll(path, labels=["B-loc", "I-loc"])
    rows = heads.read("tagger", path, FinetuneConfig(skip_bad_rows=True))
    assert heads.labels("tagger", rows) == ["O", "B-loc", "I-loc"]


def _squad(path, qas, version="v2.0"):
    context = "Call me Ishmael. Some years ago I went to sea."
    json.dump({"version": version, "data": [{"title": "Moby", "paragraphs": [
        {"context": context, "qas": qas}]}]}, open(path, "w"), indent=2)
    return str(path)


def test_squad_questions_answers_and_bad_answers(tmp_path):
    good = {"id": "q1", "question": "Who?",
            "answers": [{"text": "Ishmael", "answer_start": 8},
                        {"text": "me Ishmael", "answer_start": 5}]}
    none = {"id": "q2", "question": "Why?", "answers": [],
            "is_impossible": True}
    off = {"id": "q3", "question": "Where?",
           "answers": [{"text": "sea", "answer_start": 40}]}
    path = _squad(tmp_path / "squad.json", [good, none, off])
    with pytest.raises(ValueError) as error:
        read_squad(path)
    message = str(error.value)
    text = open(path).read().splitlines()
    line_of = {qid: 1 + next(i for i, t in enumerate(text)
                             if f'"id": "{qid}"' in t)
               for qid in ("q1", "q2", "q3")}
    assert f"squad.json, line {line_of['q3']}: question " \
           "data[0].paragraphs[0].qas[2] (id 'q3'): answer 'sea' is not at " \
           "answer_start 40 of the context (found 'o s')" in message
    squad = read_squad(path, skip_bad_rows=True)
    assert squad["ids"] == ["q1", "q2"] and squad["skipped"] == 1
    assert squad["answers"] == [{"text": "Ishmael", "answer_start": 8}, None]
    assert squad["golds"] == [["Ishmael", "me Ishmael"], []]
    assert squad["version"] == "2.0"
    assert squad["lines"] == [line_of["q1"], line_of["q2"]]
    v1 = read_squad(_squad(tmp_path / "v1.json", [good], "1.1"))
    assert v1["version"] == "1.1"
    broken = tmp_path / "broken.json"
    broken.write_text('{"data": [\n  {"paragraphs": }\n]}')
    with pytest.raises(ValueError, match="broken.json, line 2: not valid "
                       "JSON"):
        read_squad(str(broken))
    with pytest.raises(ValueError, match="not a SQuAD file"):
        read_squad(_write(tmp_path / "list.json", "[1, 2]"))


def test_embedder_pairs_and_text_lines(tmp_path):
    path = _write(tmp_path / "pairs.tsv",
                  "text\ttext_pair\nhow old?\tten years\nwho?\tIshmael\n")
    rows = heads.read("embedder", path, FinetuneConfig())
    assert rows.inputs == ["how old?", "who?"]
    assert rows.targets == ["ten years", "Ishmael"]
    assert rows.keys == ["how old?\tten years", "who?\tIshmael"]
    queries = heads.read("embedder", path, FinetuneConfig(), labeled=False)
    assert queries.inputs == ["how old?", "who?"] and queries.targets is None
    text = _write(tmp_path / "passages.txt", "one\n\n  two  \n")
    assert read_lines(text) == (["one", "two"], [1, 3])
    with pytest.raises(ValueError, match="blank.txt: no text"):
        read_lines(_write(tmp_path / "blank.txt", "\n \n"))
