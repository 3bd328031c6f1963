"""numba's on-disk cache of the kernels follows an edit of any kernel module.

The edit tests run a toy package (a callee module and a caller module) in
fresh interpreters, as a server would start before and after an upgrade:
the first run compiles and caches, the callee's source changes, the next
run must see the change.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numba.core.dispatcher
import pytest

import recostack
from recostack.algorithms import numba_cache

PACKAGE_DIR = Path(recostack.__file__).parent

CALLEE = """\
import numba


@numba.njit(cache=True)
def step(x):
    return x + {increment}
"""

CALLER = """\
{decorator_import}
from toy.callee import step


@{decorator}
def run(x):
    return step(x) * 10
"""

RUN = "from toy.caller import run; print(run(1), sum(run.stats.cache_hits.values()))"


@pytest.fixture(autouse=True)
def _forget_toy() -> Iterator[None]:
    """Each test imports its own toy package (in-process tests look it up by name)."""
    yield
    for name in [name for name in sys.modules if name == "toy" or name.startswith("toy.")]:
        del sys.modules[name]


def _toy_package(root: Path, *, through_numba_cache: bool) -> Path:
    package = root / "toy"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "callee.py").write_text(CALLEE.format(increment=1))
    if through_numba_cache:
        caller = CALLER.format(
            decorator_import="from recostack.algorithms.numba_cache import compiled",
            decorator="compiled",
        )
    else:
        caller = CALLER.format(decorator_import="import numba", decorator="numba.njit(cache=True)")
    (package / "caller.py").write_text(caller)
    return package


def _fresh_run(root: Path) -> tuple[int, int]:
    """``run(1)`` and the number of cache hits, in a new interpreter."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env["PYTHONPATH"] = os.pathsep.join([str(root), *sys.path])
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # an edit within a second must not hit a stale .pyc
    done = subprocess.run(
        [sys.executable, "-c", RUN], env=env, capture_output=True, text=True, check=True
    )
    answer, hits = done.stdout.split()
    return int(answer), int(hits)


def test_a_cached_caller_sees_an_edit_of_its_callee_in_another_module(tmp_path: Path) -> None:
    package = _toy_package(tmp_path, through_numba_cache=True)
    assert _fresh_run(tmp_path) == (20, 0)  # compiled and cached
    assert _fresh_run(tmp_path) == (20, 1)  # loaded from the cache
    (package / "callee.py").write_text(CALLEE.format(increment=20))
    assert _fresh_run(tmp_path) == (210, 0)  # the edit is seen: compiled again
    assert _fresh_run(tmp_path) == (210, 1)  # and cached again
    # the directory of the earlier sources is gone from the package's own __pycache__
    assert len(list((package / "__pycache__").glob("toy-kernels-*"))) == 1


def test_numba_alone_keeps_a_stale_caller(tmp_path: Path) -> None:
    """Why numba_cache exists; if this fails, numba follows callees itself (numba#1833)."""
    package = _toy_package(tmp_path, through_numba_cache=False)
    assert _fresh_run(tmp_path) == (20, 0)
    (package / "callee.py").write_text(CALLEE.format(increment=20))
    assert _fresh_run(tmp_path) == (20, 1)  # the old callee's code, from the cache


def test_the_digest_covers_every_kernel_module() -> None:
    found = {
        path.relative_to(PACKAGE_DIR).as_posix() for path in numba_cache.kernel_sources(PACKAGE_DIR)
    }
    assert {
        "algorithms/kernels.py",
        "algorithms/numba_cache.py",
        "rules/diversity_kernel.py",
        "serving/ruled_kernel.py",
    } <= found


def _other_modules_reached(function: numba.core.dispatcher.Dispatcher) -> set[str]:
    """Modules of the package, other than the function's own, whose code it calls (transitively)."""
    own = function.py_func.__module__
    reached: set[str] = set()
    seen: set[int] = set()
    todo = [function]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        for name in current.py_func.__code__.co_names:
            target = current.py_func.__globals__.get(name)
            if isinstance(target, types.ModuleType):
                module = target.__name__
            else:
                module = getattr(target, "__module__", None) or ""
            if not module.startswith("recostack."):
                continue
            if module != own:
                reached.add(module)
            elif isinstance(target, numba.core.dispatcher.Dispatcher):
                todo.append(target)
    return reached


def _compiled_functions() -> list[numba.core.dispatcher.Dispatcher]:
    functions = []
    for path in numba_cache.kernel_sources(PACKAGE_DIR):
        parts = path.relative_to(PACKAGE_DIR).with_suffix("").parts
        module = importlib.import_module(".".join(("recostack", *parts)))
        for value in vars(module).values():
            if (
                isinstance(value, numba.core.dispatcher.Dispatcher)
                and value.py_func.__module__ == module.__name__
            ):
                functions.append(value)
    return functions


def test_a_function_reaching_another_modules_kernels_is_cached_by_the_digest() -> None:
    directory = numba_cache.cache_directory("recostack")
    assert directory is not None
    crossing = 0
    for function in _compiled_functions():
        if _other_modules_reached(function):
            crossing += 1
            cache_path = function.stats.cache_path
            assert cache_path and Path(cache_path).is_relative_to(directory), (
                f"{function.py_func.__qualname__} calls kernels of other modules: "
                "decorate it with recostack.algorithms.numba_cache.compiled"
            )
    assert crossing >= 4  # the ruled answers chain the kernels of three modules


def test_the_cache_goes_where_numba_cache_dir_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _toy_package(tmp_path, through_numba_cache=True)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(numba_cache._numba_config, "CACHE_DIR", str(tmp_path / "shared"))
    old = tmp_path / "shared" / "toy-kernels-0000000000000000"
    old.mkdir(parents=True)
    directory = numba_cache.cache_directory.__wrapped__("toy")
    assert directory is not None and directory.parent == tmp_path / "shared"
    assert directory.name.startswith("toy-kernels-") and directory.is_dir()
    assert old.is_dir()  # a shared cache may serve other versions: left alone


def test_an_edit_names_a_new_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = _toy_package(tmp_path, through_numba_cache=True)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(numba_cache._numba_config, "CACHE_DIR", "")
    before = numba_cache.cache_directory.__wrapped__("toy")
    (package / "README.txt").write_text("not a module")
    (package / "plain.py").write_text("def f():\n    return 1\n")  # compiles nothing
    assert numba_cache.cache_directory.__wrapped__("toy") == before
    (package / "callee.py").write_text(CALLEE.format(increment=2))
    after = numba_cache.cache_directory.__wrapped__("toy")
    assert before is not None and after is not None
    assert after != before and after.parent == before.parent == package / "__pycache__"
    assert not before.exists()  # the package's own cache keeps the current sources only


def test_nowhere_writable_compiles_without_a_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(numba_cache, "_writable", lambda directory: False)
    monkeypatch.setattr(numba_cache, "cache_directory", numba_cache.cache_directory.__wrapped__)
    cache_dir = numba_cache._numba_config.CACHE_DIR

    def twice(x: int) -> int:
        return 2 * x

    twice.__module__ = "recostack.algorithms.toy"
    compiled: Any = numba_cache.compiled(twice)
    assert compiled(3) == 6
    assert compiled.stats.cache_path is None
    assert cache_dir == numba_cache._numba_config.CACHE_DIR
