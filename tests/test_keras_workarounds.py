"""Private code of Keras / keras-hub is used in one module; no import cycles."""

import ast
import pathlib

import pytest

from keras_electra import keras_workarounds

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "keras_electra"
WORKAROUNDS = PACKAGE / "keras_workarounds.py"

pytestmark = pytest.mark.multibackend


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        yield name.removesuffix(".__init__"), path


def _imports(path):
    """Every module name `path` imports, at any depth (functions too)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def test_the_private_code_used_is_still_there():
    assert keras_workarounds.verify() == []


def test_private_imports_live_in_the_workarounds_module():
    offenders = []
    for _, path in _modules():
        relative = path.relative_to(PACKAGE).as_posix()
        if path == WORKAROUNDS:
            continue
        for lineno, name in _imports(path):
            if name.startswith(("keras.src", "keras_hub.src")):
                offenders.append(f"{relative}:{lineno} imports {name}")
    assert offenders == []


def test_other_libraries_private_attributes_are_touched_in_one_module():
    """An `obj._name` outside the workarounds module must be a name this
    package defines (its own private helpers and attributes); anything else
    is another library's private attribute (Keras' `_get_variable_index`,
    keras-hub's `_bias`, ...) and belongs in `keras_workarounds`."""
    trees = {path: ast.parse(path.read_text()) for _, path in _modules()}
    own = set()
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                own.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx,
                                                           ast.Store):
                own.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(
                node.ctx, ast.Store
            ):
                own.add(node.attr)
            elif isinstance(node, ast.arg):
                own.add(node.arg)
            elif isinstance(node, ast.alias):
                own.add(node.asname or node.name.split(".")[-1])
    offenders = []
    for path, tree in trees.items():
        if path == WORKAROUNDS:
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr[:1] == "_"
                    and node.attr[:2] != "__" and node.attr not in own):
                offenders.append(
                    f"{path.relative_to(PACKAGE)}:{node.lineno} .{node.attr}")
    assert offenders == []


def test_no_module_imports_a_module_that_imports_it_back():
    modules = dict(_modules())

    def resolve(name):
        parts = name.split(".")
        while parts:
            if ".".join(parts) in modules:
                return ".".join(parts)
            parts.pop()
        return None

    graph = {}
    for name, path in modules.items():
        graph[name] = {
            target for _, imported in _imports(path)
            if (target := resolve(imported)) not in (None, name)
        }
    # The package's own __init__ gathers the subpackages; each subpackage's
    # __init__ counts as that subpackage.
    cycles = []
    for start in graph:
        if start == "keras_electra":
            continue
        seen, stack = set(), [(start, (start,))]
        while stack:
            node, path = stack.pop()
            for target in graph.get(node, ()):
                if target == "keras_electra":
                    continue
                if target == start:
                    cycles.append(" -> ".join(path + (start,)))
                elif target not in seen:
                    seen.add(target)
                    stack.append((target, path + (target,)))
    assert cycles == []
