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
    assert len(namespace["scores"]) >= 8


def run_cli(*args, cwd):
    env = dict(os.environ, KERAS_BACKEND="tensorflow")
    return subprocess.run(
        [sys.executable, "-m", "keras_electra.cli", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=900,
    )


@tf_only
def test_cli_help_and_errors(tmp_path):
    for verb in ("vocab", "prepare", "pretrain", "finetune", "export",
                 "evaluate", "inspect", "demo"):
        out = run_cli(verb, "--help", cwd=tmp_path)
        assert out.returncode == 0 and "--config" in out.stdout, verb
    out = run_cli("inspect", "--model", str(tmp_path / "nope"), "--text", "x",
                  cwd=tmp_path)
    assert out.returncode == 2 and "nope" in out.stderr
    out = run_cli("pretrain", "--output", str(tmp_path), "--input", "x.txt",
                  "--preset", "electra_huge", cwd=tmp_path)
    assert out.returncode == 2
    config = tmp_path / "run.json"
    config.write_text(json.dumps({"steps": 3, "bogus": 1}))
    out = run_cli("pretrain", "--config", str(config), "--output", "o",
                  cwd=tmp_path)
    assert out.returncode != 0 and "bogus" in out.stderr
    out = run_cli("pretrain", "--output", str(tmp_path / "r"), "--input",
                  "x.txt", "--model-options", "mask_rat=0.3", cwd=tmp_path)
    assert out.returncode == 2 and "mask_rat" in out.stderr
    assert "mask_rate" in out.stderr  # the valid names are listed
    out = run_cli("pretrain", "--output", str(tmp_path / "r"), "--input",
                  "x.txt", "--generator-options", "hidden_dim", cwd=tmp_path)
    assert out.returncode == 2 and "'hidden_dim' is not key=value" in out.stderr


def test_cli_parse_options():
    from keras_electra.cli import parse_options

    assert parse_options(
        "mask_rate=0.25, tie_embeddings=false,name=gen", "--model-options"
    ) == {"mask_rate": 0.25, "tie_embeddings": False, "name": "gen"}
    assert parse_options(None, "--x") == {}
    assert parse_options({"hidden_dim": 64}, "--x") == {"hidden_dim": 64}
    with pytest.raises(ValueError, match="'=1' is not key=value"):
        parse_options("=1", "--model-options")
