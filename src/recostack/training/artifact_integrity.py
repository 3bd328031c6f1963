"""Checksums of what the workers write: model folders and batch outputs.

A model folder is sealed when it is saved: every file is flushed to disk
and listed with its SHA-256 in ``SHA256SUMS`` (the format ``sha256sum -c``
reads), written under a temporary name, flushed and renamed, and the
folder itself is flushed. Loading a model checks every listed file first
(:func:`verify_model_dir`); a folder without the list, a missing file or a
file whose digest differs is refused with an
:class:`~recostack.errors.Unavailable` naming it, never served.

A batch output gets the same treatment as one file (:func:`seal_file`): its
digest goes to ``<name>.sha256`` beside it before the output is renamed to
its final name, and a reader checks it (:func:`verify_file`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from pathlib import Path

from recostack.errors import Unavailable

__all__ = [
    "MANIFEST",
    "checksum_path",
    "file_sha256",
    "fsync_dir",
    "seal_file",
    "seal_model_dir",
    "verify_file",
    "verify_model_dir",
]

#: the list of a model folder's files and their SHA-256 digests
MANIFEST = "SHA256SUMS"
_BLOCK = 1 << 20


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes (hex), read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def fsync_dir(directory: Path) -> None:
    """Flush a folder's entries (new names, renames) to disk."""
    with contextlib.suppress(OSError):  # a file system without directory fsync
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(path: Path, text: str) -> None:
    """``text`` to ``path`` through a temporary name: whole, flushed, then renamed."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        with temporary.open("w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    fsync_dir(path.parent)


def _model_files(directory: Path) -> list[Path]:
    return sorted(
        p
        for p in directory.rglob("*")
        if p.is_file() and p.relative_to(directory).as_posix() != MANIFEST
    )


def seal_model_dir(directory: Path) -> None:
    """Flush every file of a freshly written model folder and list its digests."""
    lines = []
    for path in _model_files(directory):
        _fsync_file(path)
        lines.append(f"{file_sha256(path)}  {path.relative_to(directory).as_posix()}\n")
    _write_durably(directory / MANIFEST, "".join(lines))


def _read_manifest(directory: Path) -> dict[str, str]:
    listed: dict[str, str] = {}
    for number, line in enumerate((directory / MANIFEST).read_text("utf-8").splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or not name:
            raise Unavailable(
                f"model artifacts in {directory} are corrupt: line {number} of {MANIFEST} "
                "is not '<sha256>  <file>'",
                field="modelId",
            )
        listed[name] = digest
    return listed


def verify_model_dir(directory: Path) -> None:
    """Check every file of a model folder against its ``SHA256SUMS``;
    :class:`~recostack.errors.Unavailable` naming the first problem."""
    if not (directory / MANIFEST).is_file():
        if not directory.is_dir():
            raise Unavailable(
                f"model artifacts are missing: no folder {directory}", field="modelId"
            )
        raise Unavailable(
            f"model artifacts in {directory} have no {MANIFEST}: they were not written "
            "completely (or before checksums were kept); train the model again",
            field="modelId",
        )
    for name, expected in _read_manifest(directory).items():
        path = directory / name
        if not path.is_file():
            raise Unavailable(
                f"model artifacts in {directory} are corrupt: {name} is missing", field="modelId"
            )
        actual = file_sha256(path)
        if actual != expected:
            raise Unavailable(
                f"model artifacts in {directory} are corrupt: {name} has SHA-256 {actual}, "
                f"{MANIFEST} says {expected}",
                field="modelId",
            )


# --- single files (batch outputs) ------------------------------------------------------


def checksum_path(path: Path) -> Path:
    """Where the digest of ``path`` is kept: ``<name>.sha256`` beside it."""
    return path.with_name(f"{path.name}.sha256")


def seal_file(content: Path, final: Path) -> None:
    """Flush ``content`` (to become ``final``) and write its digest beside ``final``.

    Call it before renaming ``content`` to ``final``: a reader who finds the
    output under its final name finds its digest too.
    """
    _fsync_file(content)
    _write_durably(checksum_path(final), f"{file_sha256(content)}  {final.name}\n")


def verify_file(path: Path, field: str = "path") -> None:
    """Check ``path`` against ``<name>.sha256`` when there is one;
    :class:`~recostack.errors.Unavailable` if it differs."""
    sums = checksum_path(path)
    if not sums.is_file():
        return
    expected = sums.read_text("utf-8").partition(" ")[0].strip()
    actual = file_sha256(path)
    if actual != expected:
        raise Unavailable(
            f"{path.name} is corrupt: its SHA-256 is {actual}, {sums.name} says {expected}",
            field=field,
        )
