from __future__ import annotations

import ast
import pathlib

import recostack.rules as rules

PACKAGE = pathlib.Path(rules.__file__).parent


def test_every_public_name_is_exported_and_importable() -> None:
    assert sorted(rules.__all__) == sorted(set(rules.__all__))
    for name in rules.__all__:
        assert hasattr(rules, name), name
    for module in (
        "ab_testing",
        "filters",
        "plan",
        "properties",
        "reranking",
        "resolution",
        "scenarios",
    ):
        mod = __import__(f"recostack.rules.{module}", fromlist=["__all__"])
        for name in mod.__all__:
            if module != "properties" or name != "PropertyColumn":
                assert name in rules.__all__, (module, name)


def test_rules_never_import_web_database_or_http_code() -> None:
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                root = name.split(".")[0]
                assert root not in {"fastapi", "sqlalchemy", "httpx", "starlette"}, (path, name)
                if root == "recostack":
                    assert name.startswith(("recostack.rules", "recostack.errors")), (path, name)
