"""The SDK's shape: each call written once, in ``Client``; resources delegate; no import circle."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import recostack.client as sdk
from recostack.client import Client
from recostack.client._deployment import DeploymentCalls
from recostack.client._model import ModelCalls
from recostack.client._project import ProjectCalls

PACKAGE = Path(sdk.__file__).parent
RESOURCES = ("_deployment", "_model", "_project")


def _tree(module: str) -> ast.Module:
    return ast.parse((PACKAGE / f"{module}.py").read_text())


def _imports(module: str) -> set[str]:
    """The modules of the SDK that ``module`` imports (at any level)."""
    found = set()
    for node in ast.walk(_tree(module)):
        if isinstance(node, ast.ImportFrom) and node.module:
            prefix = "recostack.client."
            if node.module.startswith(prefix):
                found.add(node.module.removeprefix(prefix))
    return found


def test_the_modules_import_each_other_without_a_circle() -> None:
    modules = {p.stem for p in PACKAGE.glob("_*.py") if p.stem != "__init__"}
    graph = {m: _imports(m) for m in modules}
    assert all(graph[m] <= modules for m in modules)
    visiting: list[str] = []

    def visit(module: str, done: set[str]) -> None:
        assert module not in visiting, f"import circle: {[*visiting, module]}"
        if module in done:
            return
        visiting.append(module)
        for imported in graph[module]:
            visit(imported, done)
        visiting.pop()
        done.add(module)

    done: set[str] = set()
    for module in sorted(modules):
        visit(module, done)
    assert not any("_client" in graph[m] or "_http" in graph[m] for m in RESOURCES)


def test_only_the_client_sends_requests() -> None:
    senders = {
        p.stem
        for p in PACKAGE.glob("*.py")
        if any(
            isinstance(node, ast.Attribute) and node.attr in ("_call", "_http")
            for node in ast.walk(ast.parse(p.read_text()))
        )
    }
    # the Client's calls, and its mixins of calls (``_<feature>_calls``)
    assert {s for s in senders if not s.endswith("_calls")} == {"_client", "_http"}


@pytest.mark.parametrize("module", RESOURCES)
def test_resources_use_public_calls_of_the_client(module: str) -> None:
    used = {
        node.attr
        for node in ast.walk(_tree(module))
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "_client"
    }
    assert used, module
    for name in used:
        assert not name.startswith("_"), name
        assert name == "poll_seconds" or callable(getattr(Client, name, None)), name


@pytest.mark.parametrize("calls", [DeploymentCalls, ModelCalls, ProjectCalls])
def test_the_client_has_every_call_a_resource_uses_with_its_parameters(calls: type) -> None:
    """What mypy checks where the client binds a resource, checked at run time too."""
    for name, member in inspect.getmembers(calls, inspect.isfunction):
        if name.startswith("_"):
            continue
        wanted = inspect.signature(member).parameters.values()
        given = inspect.signature(getattr(Client, name)).parameters.values()
        named = [(p.name, p.kind) for p in wanted if p.kind != p.VAR_KEYWORD]
        assert [(p.name, p.kind) for p in given][: len(named)] == named, name
        if any(p.kind == p.VAR_KEYWORD for p in wanted):
            assert any(p.kind == p.VAR_KEYWORD for p in given), name
