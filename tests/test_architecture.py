"""Imports under consult/ run one way: the core below the features, the features in the order of
consult.layers.FEATURES, the wiring (create_app, home, cli, demo, backup) on top. Read from the source (ast), so
an import inside a function counts as much as one at the top of a module."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from consult.layers import CORE, FEATURES

PACKAGE = Path(__file__).resolve().parent.parent / "consult"
WIRING = len(FEATURES) + 1


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    """0 for the core, 1 + index in FEATURES for a feature, WIRING for everything else of consult."""
    if any(module == core or module.startswith(core + ".") for core in CORE):
        return 0
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in FEATURES:
        return 1 + FEATURES.index(parts[1])
    return WIRING


def layer_name(rank: int) -> str:
    return "core" if rank == 0 else "wiring" if rank == WIRING else f"feature {FEATURES[rank - 1]!r}"


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, imported module) of every consult import in the source, except those only for type checkers."""
    tree = ast.parse(source)
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                # `from consult.core import clock` imports the module consult.core.clock
                candidate = f"{base}.{alias.name}"
                found.append((node.lineno, candidate if _is_module(candidate) else base))
    return [(line, name) for line, name in found if name == "consult" or name.startswith("consult.")]


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    own = layer(module)
    return [
        f"{module}:{line} imports {target} ({layer_name(layer(target))}) from {layer_name(own)}"
        for line, target in imports_of(source, module, is_package)
        if layer(target) > own
    ]


def sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def test_every_import_runs_down_the_layers():
    found = []
    for path in sources():
        found.extend(violations(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py"))
    assert found == []


def test_every_module_is_in_a_layer_that_exists():
    """A package under consult/ is the core, a feature listed in FEATURES, or one of the wiring's own."""
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert packages - set(FEATURES) == {"core", "demo"}


@pytest.mark.parametrize("feature", FEATURES)
def test_every_feature_has_one_blueprint_named_after_it(feature):
    assert importlib.import_module(f"consult.{feature}.views").bp.name == feature


def blueprints_made_in(source: str) -> int:
    """How many `Blueprint(...)` calls the source makes."""
    return sum(
        1
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and (getattr(node.func, "id", None) == "Blueprint" or getattr(node.func, "attr", None) == "Blueprint")
    )


def test_only_a_features_views_make_its_blueprint():
    """A second blueprint inside a feature (e.g. one for a part of its pages) is refused: its routes go on the
    feature's own one, which its views module makes (its API resources have theirs in its api module)."""
    allowed = {f"consult.{feature}.{module}" for feature in FEATURES for module in ("views", "api")}
    allowed |= {"consult.home", "consult.core.api"}
    found = [
        module_name(path)
        for path in sources()
        if blueprints_made_in(path.read_text(encoding="utf-8")) and module_name(path) not in allowed
    ]
    assert found == []
    assert blueprints_made_in('bp = Blueprint("federation", __name__)') == 1  # the check sees one


def test_the_app_registers_one_page_blueprint_per_feature(app):
    """Beside the API's blueprints (under /api/v1), the app's page blueprints are home's (main) and the features'."""
    pages = {name for name, blp in app.blueprints.items() if not (blp.url_prefix or "").startswith("/api/")}
    assert pages == {"main", *FEATURES}


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("consult.rounds.operations", "from consult.answers.models import Answer", 1),  # a feature reaching up
        ("consult.rounds.operations", "def f():\n    from consult.letters import compose", 1),  # inside a function
        ("consult.core.faults", "from consult.answers.forms import OPINION_LABELS", 1),  # the core reaching a feature
        ("consult.audit.operations", "from consult.rounds.models import Round", 1),
        ("consult.orgs.models", "from consult import demo", 1),  # a feature reaching the wiring
        ("consult.answers.views.board", "from .. import queries", 0),  # relative, same feature
        ("consult.answers.views.board", "from ...letters import models", 1),  # relative, up the order
        ("consult.review.views", "from consult.letters.models import Letter\nfrom consult.core import clock", 0),
        (
            "consult.audit.models",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from consult.auth import models",
            0,
        ),
        ("consult.cli", "from consult.review import exports", 0),  # the wiring may import anything
    ],
)
def test_the_check_sees_an_upward_import(module, source, expected):
    assert len(violations(source, module)) == expected


def test_nothing_test_only_or_benchmark_only_is_in_the_package(monkeypatch):
    """No benchmark route (even with the old switch set) and no clock that reads a file: those live in bench/
    and tests/."""
    from consult import create_app

    monkeypatch.setenv("CONSULT_BENCH_ROUTES", "1")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    assert not [rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/bench")]
    words = ("BENCH_ROUTES", "CLOCK_OFFSET", "TEST ONLY", "benchmark only")
    for path in sources():
        text = path.read_text(encoding="utf-8")
        assert not [word for word in words if word in text], path
