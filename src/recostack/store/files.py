"""Input files on disk: ``<data_dir>/files/<container>/<relative path>``.

A container is the reference's ``blobContainerName``. Every name that comes
from outside goes through :func:`container_dir` or :func:`resolve_path`,
which refuse anything that could leave the container (``..``, absolute
paths, backslashes, NUL, symlinks pointing out).
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from recostack.errors import Conflict, Invalid, NotFound, TooLarge

__all__ = [
    "CONTAINER_PATTERN",
    "StoredFile",
    "container_dir",
    "delete_container",
    "delete_path",
    "list_container",
    "resolve_path",
    "save_stream",
]

CONTAINER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"
_CONTAINER = re.compile(CONTAINER_PATTERN)
_UPLOAD_PREFIX = ".upload-"
MAX_PATH_LENGTH = 1024
MAX_SEGMENT_LENGTH = 255


@dataclass(frozen=True)
class StoredFile:
    path: str
    size: int
    modified_time: datetime


def container_dir(files_root: Path, container: str) -> Path:
    """The folder of ``container``; :class:`Invalid` for a name that is not allowed."""
    if not _CONTAINER.fullmatch(container):
        raise Invalid(
            "container names are 1-63 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit",
            field="container",
        )
    return files_root / container


def resolve_path(files_root: Path, container: str, relative_path: str, field: str = "path") -> Path:
    """``relative_path`` inside the container, refusing any way out of it."""
    base = container_dir(files_root, container)
    if not relative_path or len(relative_path) > MAX_PATH_LENGTH:
        raise Invalid(f"path must be 1-{MAX_PATH_LENGTH} characters", field=field)
    if "\\" in relative_path or "\x00" in relative_path or relative_path.startswith("/"):
        raise Invalid("path must be relative and use '/' separators", field=field)
    segments = relative_path.rstrip("/").split("/")
    for segment in segments:
        if segment in ("", ".", "..") or len(segment) > MAX_SEGMENT_LENGTH:
            raise Invalid(f"path segment {segment!r} is not allowed", field=field)
        if segment.startswith(_UPLOAD_PREFIX):
            raise Invalid(f"path segment {segment!r} is reserved", field=field)
    path = base.joinpath(*segments)
    root = base.resolve()
    if not path.resolve().is_relative_to(root):
        raise Invalid("path leaves the container", field=field)
    return path


async def save_stream(
    files_root: Path,
    container: str,
    relative_path: str,
    chunks: AsyncIterator[bytes],
    *,
    max_bytes: int,
) -> tuple[StoredFile, bool]:
    """Stream ``chunks`` to the file; returns it and whether it is new.

    The upload goes to a temporary file in the same folder and replaces the
    target atomically at the end, so a failed or oversized upload leaves
    whatever was there before untouched.
    """
    target = resolve_path(files_root, container, relative_path)
    if target.is_dir():
        raise Conflict(f"{relative_path!r} is a folder", field="path")
    for parent in target.relative_to(files_root).parents:
        if (files_root / parent).is_file():
            raise Conflict(f"{parent.as_posix()!r} is a file, not a folder", field="path")
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.parent / f"{_UPLOAD_PREFIX}{uuid.uuid4().hex}"
    size = 0
    try:
        with temporary.open("wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(f"the file is larger than {max_bytes} bytes", field="body")
                out.write(chunk)
        existed = target.exists()
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return _stored(target, target.relative_to(files_root / container)), not existed


def list_container(files_root: Path, container: str) -> list[StoredFile]:
    """Every file of the container, by path."""
    base = container_dir(files_root, container)
    if not base.is_dir():
        raise NotFound(f"container {container!r} does not exist", field="container")
    files = [
        _stored(path, path.relative_to(base))
        for path in base.rglob("*")
        if path.is_file() and not path.name.startswith(_UPLOAD_PREFIX)
    ]
    return sorted(files, key=lambda f: f.path)


def delete_path(files_root: Path, container: str, relative_path: str) -> None:
    """Delete a file, or a folder with everything in it."""
    path = resolve_path(files_root, container, relative_path)
    if path.is_dir():
        shutil.rmtree(path)
    elif path.is_file():
        path.unlink()
    else:
        raise NotFound(f"{relative_path!r} does not exist in {container!r}", field="path")


def delete_container(files_root: Path, container: str) -> None:
    base = container_dir(files_root, container)
    if not base.is_dir():
        raise NotFound(f"container {container!r} does not exist", field="container")
    shutil.rmtree(base)


def _stored(path: Path, relative: Path) -> StoredFile:
    stat = path.stat()
    return StoredFile(
        path=relative.as_posix(),
        size=stat.st_size,
        modified_time=datetime.fromtimestamp(stat.st_mtime, UTC),
    )
