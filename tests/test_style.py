"""House rules that code review alone would let slip."""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "keras_electra"
MODEL_CODE = sorted((PACKAGE / "models").glob("*.py")) + sorted(
    (PACKAGE / "layers").glob("*.py")
)

pytestmark = pytest.mark.multibackend


@pytest.mark.parametrize("path", MODEL_CODE, ids=lambda p: p.name)
def test_model_and_layer_code_never_imports_tensorflow(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert not name.split(".")[0] in ("tensorflow", "torch", "jax"), (
                f"{path.name}:{node.lineno} imports {name}; model code uses "
                "keras.ops only"
            )


@pytest.mark.parametrize("path", MODEL_CODE, ids=lambda p: p.name)
def test_public_classes_have_a_docstring_with_an_example(path):
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            doc = ast.get_docstring(node) or ""
            assert "Example" in doc, f"{path.name}: {node.name} lacks an example"


JOB_CODE = sorted((PACKAGE / "jobs").glob("*.py"))


@pytest.mark.parametrize("path", JOB_CODE, ids=lambda p: p.name)
def test_job_functions_stay_short_and_public_ones_have_examples(path):
    """The job layer is many small functions (the old workflows.py had a
    325-line run_pretraining): none over 80 lines, docstring included."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            length = node.end_lineno - node.lineno + 1
            assert length <= 80, f"{path.name}: {node.name} has {length} lines"
    for node in tree.body:
        public = not node.name.startswith("_") if hasattr(
            node, "name") else False
        if isinstance(node, ast.ClassDef) and public:
            doc = ast.get_docstring(node) or ""
            assert "Example" in doc, f"{path.name}: {node.name} lacks an example"
