"""The dependency arrows between the apps: clinic ← bookings ← payments ← records ← reminders ←
waitlist ← workspace.

An app may import the apps to its left and never one to its right, so the staff workspace can
change without touching the domain, and the domain never reaches for presentation code. Read
from the source with ``ast`` (every import, including ones inside functions or under
``TYPE_CHECKING``, and dotted names given to ``import_module``/``import_string``/``include``),
so nothing has to be imported to be checked.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("clinic", "bookings", "payments", "records", "reminders", "waitlist", "workspace")
# The project wiring (URLs, the Celery app) composes every app; it is the one place allowed to.
COMPOSITION_ROOTS = {"clinic/urls.py"}
DYNAMIC_IMPORTERS = {"import_module", "import_string", "include"}


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _imported_modules(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Call) and node.args:
            function = node.func
            called = getattr(function, "id", None) or getattr(function, "attr", None)
            first = node.args[0]
            if called in DYNAMIC_IMPORTERS and _is_text(first):
                names.add(first.value)
    return names


def _source_files(app: str) -> list[Path]:
    return sorted(
        path
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts and "__pycache__" not in path.parts
    )


def _forbidden_imports(app: str) -> list[str]:
    later = LAYERS[LAYERS.index(app) + 1 :]
    found = []
    for path in _source_files(app):
        relative = path.relative_to(ROOT).as_posix()
        if relative in COMPOSITION_ROOTS:
            continue
        for module in _imported_modules(ast.parse(path.read_text(), filename=relative)):
            if module.split(".")[0] in later:
                found.append(f"{relative} imports {module}")
    return sorted(found)


@pytest.mark.parametrize("app", LAYERS)
def test_an_app_imports_only_the_apps_below_it(app):
    assert _source_files(app), f"{app} has no source files: is the layer list stale?"
    assert _forbidden_imports(app) == []


def test_the_walk_sees_imports_inside_functions_and_dynamic_ones():
    # Guards the checker itself: these forms are the ones a workaround would use.
    tree = ast.parse(
        "def f():\n"
        "    from workspace.views import access\n"
        "    import reminders.tasks\n"
        "    importlib.import_module('workspace.api')\n"
        "    include('workspace.urls')\n"
        "from .relative import thing\n"
    )
    assert _imported_modules(tree) == {
        "workspace.views",
        "reminders.tasks",
        "workspace.api",
        "workspace.urls",
    }


ROUTE_DEFINERS = {"get", "post", "put", "patch", "delete", "api_operation", "add_router"}
URL_PREFIXES = (
    "/staff",
    "/book",
    "/b/",
    "/c/",
    "/r/",
    "/w/",
    "/waitlist",
    "/api/",
    "/webhooks/",
    "/admin",
    "/healthz",
)


def _docstring_nodes(tree: ast.AST) -> set[int]:
    nodes = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                nodes.add(id(body[0].value))
    return nodes


def _route_definitions(tree: ast.AST) -> set[int]:
    # ``@router.get("/bookings")`` and ``api.add_router("/staff/", …)`` define routes, as
    # ``path()`` does; they are where a path is written once.
    nodes = set()
    for node in ast.walk(tree):
        is_call = isinstance(node, ast.Call) and bool(node.args)
        if is_call and getattr(node.func, "attr", None) in ROUTE_DEFINERS:
            nodes.add(id(node.args[0]))
    return nodes


def _url_strings(tree: ast.AST) -> list[str]:
    allowed = _docstring_nodes(tree) | _route_definitions(tree)
    found = []
    for node in ast.walk(tree):
        if _is_text(node) and id(node) not in allowed and node.value.startswith(URL_PREFIXES):
            found.append(node.value)
    return found


@pytest.mark.parametrize("app", LAYERS)
def test_no_url_path_is_written_as_a_string(app):
    # Paths come from ``reverse``/``{% url %}``, so a route can move without a stale copy.
    found = []
    for path in _source_files(app):
        relative = path.relative_to(ROOT).as_posix()
        for value in _url_strings(ast.parse(path.read_text(), filename=relative)):
            found.append(f"{relative}: {value!r}")
    assert found == []
