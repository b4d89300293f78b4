"""The notebook and the CLI run end to end (TensorFlow backend)."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
tf_only = pytest.mark.skipif(
    keras.config.backend() != "tensorflow",
    reason="export steps need the TensorFlow backend",
)


@tf_only
def test_notebook_runs_end_to_end(tmp_path, monkeypatch):
    pytest.importorskip("scattertext", reason="make installs scattertext")
    monkeypatch.setenv("ELECTRA_NOTEBOOK_STEPS", "20")
    monkeypatch.setenv("ELECTRA_NOTEBOOK_EXAMPLES", "300")
    monkeypatch.setenv("ELECTRA_NOTEBOOK_DIR", str(tmp_path))
    with open(os.path.join(ROOT, "examples", "electra_quickstart.ipynb")) as f:
        notebook = json.load(f)
    namespace = {"__name__": "__notebook__"}
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), "notebook", "exec"), namespace)
    assert os.path.getsize(tmp_path / "curves.png") > 10_000
    assert 0.0 <= namespace["result"]["accuracy"] <= 1.0
    assert np.all(np.isfinite(namespace["runner"](namespace["x"])["logits"]))
    assert namespace["keras_logits"].shape == (2, 2)  # raw text in
    assert len(namespace["scores"]) >= 8


def run_cli(*args, cwd):
    env = dict(os.environ, KERAS_BACKEND="tensorflow")
    return subprocess.run(
        [sys.executable, "-m", "keras_electra.cli", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=900,
    )


def main_in_process(capsys, *args):
    """`keras-electra ARGS` in this process: (exit code, stdout, stderr)."""
    import logging

    from keras_electra.cli import main

    logger = logging.getLogger("keras_electra")
    handlers, level = list(logger.handlers), logger.level
    capsys.readouterr()
    try:
        code = main([str(a) for a in args])
    except SystemExit as e:  # --help and argparse errors
        code = e.code
        if isinstance(code, str):  # Python prints it and exits with 1
            print(code, file=sys.stderr)
            code = 1
    finally:
        logger.handlers[:], logger.level = handlers, level
    out = capsys.readouterr()
    return code, out.out, out.err


@tf_only
def test_cli_help_and_errors(tmp_path, capsys, monkeypatch):
    # The installed entry point, once, in a process of its own.
    out = run_cli("inspect", "--model", str(tmp_path / "nope"), "--text", "x",
                  cwd=tmp_path)
    assert out.returncode == 2 and "nope" in out.stderr
    # The rest in this process (a fresh interpreter costs ~12 s each).
    monkeypatch.chdir(tmp_path)
    for verb in ("vocab", "prepare", "pretrain", "finetune", "export",
                 "evaluate", "inspect", "demo"):
        code, stdout, _ = main_in_process(capsys, verb, "--help")
        assert code == 0 and "--config" in stdout, verb
    code, _, stderr = main_in_process(
        capsys, "pretrain", "--output", tmp_path, "--input", "x.txt",
        "--preset", "electra_huge")
    assert code == 2 and "vocab.txt' not found" in stderr
    from keras_electra.data import bundled_vocabulary_file

    code, _, stderr = main_in_process(
        capsys, "pretrain", "--output", tmp_path, "--input", "x.txt",
        "--vocabulary", bundled_vocabulary_file(), "--preset", "electra_huge")
    assert code == 2 and "electra_huge" in stderr, stderr
    config = tmp_path / "run.json"
    config.write_text(json.dumps({"steps": 3, "bogus": 1}))
    code, _, stderr = main_in_process(
        capsys, "pretrain", "--config", config, "--output", "o")
    assert code != 0 and "bogus" in stderr
    code, _, stderr = main_in_process(
        capsys, "pretrain", "--output", tmp_path / "r", "--input", "x.txt",
        "--model-options", "mask_rat=0.3")
    assert code == 2 and "mask_rat" in stderr
    assert "mask_rate" in stderr  # the valid names are listed
    code, _, stderr = main_in_process(
        capsys, "pretrain", "--output", tmp_path / "r", "--input", "x.txt",
        "--generator-options", "hidden_dim")
    assert code == 2 and "'hidden_dim' is not key=value" in stderr


def test_cli_parse_options():
    from keras_electra.cli import parse_options

    assert parse_options(
        "mask_rate=0.25, tie_embeddings=false,name=gen", "--model-options"
    ) == {"mask_rate": 0.25, "tie_embeddings": False, "name": "gen"}
    assert parse_options(None, "--x") == {}
    assert parse_options({"hidden_dim": 64}, "--x") == {"hidden_dim": 64}
    with pytest.raises(ValueError, match="'=1' is not key=value"):
        parse_options("=1", "--model-options")
