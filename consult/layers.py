"""The layers of the app, bottom first. Imports only run downwards; tests/test_architecture.py checks every one.

    consult.extensions, consult.core   the core: clock, text, errors, types, forms, transaction, access, faults ...
    consult.<feature>, in FEATURES     each feature imports the core and the features before it, never one after
    the rest of consult/               the wiring: create_app, home, cli, demo, backup (may import anything)

A new feature is a package consult/<name>/ with models.py, forms.py, views.py (one blueprint named `bp`; or a
views/ package exposing it), operations.py and queries.py. Append its name to FEATURES: create_app then imports
its models and registers its blueprint, and the architecture test holds it to its place in the order.
"""

from __future__ import annotations

import importlib
from types import ModuleType

CORE = ("consult.extensions", "consult.core")
FEATURES = ["audit", "orgs", "auth", "rounds", "answers", "letters", "review", "followup", "notify"]


def feature_modules(name: str) -> list[ModuleType]:
    """The named module (e.g. "models", "views") of every feature that has one, in the order of FEATURES."""
    found = []
    for feature in FEATURES:
        try:
            found.append(importlib.import_module(f"consult.{feature}.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"consult.{feature}.{name}":
                raise
    return found
