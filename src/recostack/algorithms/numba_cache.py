"""numba's on-disk cache for the compiled kernels, kept right when any kernel changes.

numba keeps a function's machine code next to its source file and trusts it
while that one file is unchanged; it does not look at the files of the
functions it calls ("cache invalidation fails to recognize changes in
symbols defined in a different file", numba's notes on caching;
numba/numba#1833). A kernel that calls a kernel of another module
(:mod:`recostack.serving.ruled_kernel` chains those of
:mod:`recostack.algorithms.kernels` and :mod:`recostack.rules.diversity_kernel`
in one compiled function) carries the callees' code in its own cache entry:
editing a callee alone would leave the caller stale.

So a compiled function that calls compiled functions of another module
compiles through :func:`compiled`: ``numba.njit(cache=True)`` with the
cache in a directory named by a digest of the sources of every module of
the package that compiles with numba (every module importing ``numba`` or
this module, :func:`kernel_sources`). An edit of any of them names a new
directory, where such functions compile afresh; nothing is to be deleted
by hand. A function calling only functions of its own module keeps
``numba.njit(cache=True)``: numba's own check of that one file is right for
it (and ``tests/algorithms/test_numba_cache.py`` checks which is which).

The directory (:func:`cache_directory`) is ``<package>-kernels-<digest>`` in
``NUMBA_CACHE_DIR`` when that is set, else in the package's own
``__pycache__`` (numba's own default place; there the directories of
earlier digests are removed), else in the user's cache directory
(``$XDG_CACHE_HOME`` or ``~/.cache``, under ``recostack``). Where none is
writable these functions compile on every start: slower, never stale.

Only the directory is chosen here (numba's public ``config.CACHE_DIR``, set
while a function is decorated, which is when numba binds a function to its
cache); what is cached and when is numba's.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar, cast, overload

import numba

__all__ = ["cache_directory", "compiled", "kernel_sources"]

F = TypeVar("F", bound=Callable[..., Any])

#: an import statement naming numba (``import numba``, ``from numba.extending import ...``)
#: or this module (``from recostack.algorithms.numba_cache import compiled``)
_COMPILES_WITH_NUMBA = re.compile(rb"^[ \t]*(?:from|import)[ \t][^\n]*\bnumba", re.MULTILINE)

_DECORATING = threading.Lock()

#: numba's settings (``config.CACHE_DIR``): set at run time from the environment, so
#: its type hints do not list them
_numba_config: Any = numba.config


def kernel_sources(package_dir: Path) -> dict[Path, bytes]:
    """The sources of the modules under ``package_dir`` that compile with numba, by path.

    A module counts when one of its import statements names ``numba`` or
    this module: whatever a cached kernel can reach is in one of them.
    """
    sources = {}
    for path in sorted(package_dir.rglob("*.py")):
        source = path.read_bytes()
        if _COMPILES_WITH_NUMBA.search(source):
            sources[path] = source
    return sources


def _digest(package_dir: Path) -> str:
    digest = hashlib.sha256()
    for path, source in kernel_sources(package_dir).items():
        digest.update(path.relative_to(package_dir).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(source).digest())
    return digest.hexdigest()[:16]


def _writable(directory: Path) -> bool:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=directory).close()
    except OSError:
        return False
    return True


def _user_cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "recostack"


@functools.cache
def cache_directory(package: str) -> Path | None:
    """Where the kernels of top-level ``package`` are cached for their sources of now.

    ``None`` when no candidate directory is writable. Computed once per
    process (the sources are those the process imported).
    """
    package_dir = Path(importlib.import_module(package).__path__[0])
    name = f"{package}-kernels-{_digest(package_dir)}"
    candidates = [(package_dir / "__pycache__", True), (_user_cache_home(), False)]
    if _numba_config.CACHE_DIR:
        candidates.insert(0, (Path(_numba_config.CACHE_DIR), False))
    for base, own in candidates:
        directory = base / name
        new = not directory.exists()
        if not _writable(directory):
            continue
        if own and new:  # the package's own cache: earlier sources will not come back
            for old in base.glob(f"{package}-kernels-*"):
                if old != directory:
                    shutil.rmtree(old, ignore_errors=True)
        return directory
    return None


@overload
def compiled(fn: F, /) -> F: ...


@overload
def compiled(*, inline: Literal["always", "never"] = "never") -> Callable[[F], F]: ...


def compiled(
    fn: F | None = None, /, *, inline: Literal["always", "never"] = "never"
) -> F | Callable[[F], F]:
    """``numba.njit(cache=True, inline=inline)``, cached in :func:`cache_directory`.

    Use as ``@compiled`` or ``@compiled(inline="always")``.
    """

    def compile_cached(fn: F) -> F:
        directory = cache_directory(fn.__module__.partition(".")[0])
        if directory is None:
            return cast(F, numba.njit(inline=inline)(fn))
        with _DECORATING:
            previous = _numba_config.CACHE_DIR
            _numba_config.CACHE_DIR = str(directory)
            try:
                return cast(F, numba.njit(cache=True, inline=inline)(fn))
            finally:
                _numba_config.CACHE_DIR = previous

    return compile_cached if fn is None else compile_cached(fn)
