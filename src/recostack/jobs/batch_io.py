"""A batch job's input and output, chunk by chunk, in bounded memory.

Input is read a chunk of lines at a time from a byte offset (so a resumed
job seeks to where its last finished chunk ended); a CSV file's header is
read again from the top. The output is written to a temporary file beside
its final name, ``.<name>.<job id>.part``: each chunk is appended, flushed
to disk, and only then counted as done (the caller commits the new offsets
in the store). A resumed job first cuts the temporary file back to the last
committed offset, so a chunk written by a worker that died before
committing it is written once again, never twice. When every chunk is done
the file's SHA-256 is written beside its final name (``<name>.sha256``) and
the file is renamed to that name: a reader never sees a half-written output
under that name, and can check the one it sees.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

import numpy as np
import orjson

from recostack.errors import Conflict, Invalid
from recostack.training.artifact_integrity import fsync_dir, seal_file

__all__ = [
    "Chunk",
    "ChunkedOutput",
    "LineInput",
    "UsersInput",
    "count_lines",
    "input_format_of",
    "partial_path",
]

_COUNT_BLOCK = 8 << 20


def input_format_of(path: Path, given: str | None = None) -> str:
    """``csv`` or ``json``: as given, else by the file's extension (JSON lines by default)."""
    if given:
        return given.lower()
    return "csv" if path.suffix.lower() in (".csv", ".tsv") else "json"


def count_lines(path: Path) -> int:
    """Non-blank lines of a file, read in blocks (a last line without a newline counts)."""
    total = 0
    with path.open("rb") as fh:
        tail = b""
        while block := fh.read(_COUNT_BLOCK):
            data = tail + block
            lines = data.split(b"\n")
            tail = lines.pop()
            total += sum(1 for line in lines if line.strip())
        if tail.strip():
            total += 1
    return total


@dataclass(frozen=True)
class Chunk:
    """Lines of the input (raw, stripped, non-blank) and where the next chunk starts."""

    lines: list[bytes]
    end: int

    def __len__(self) -> int:
        return len(self.lines)


class LineInput:
    """An input file read as chunks of lines from byte offsets."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path = path
        self.format = fmt
        self.header: bytes | None = None
        self._fh: BinaryIO = path.open("rb")
        self._data_start = 0
        if fmt == "csv":
            first = self._fh.readline()
            while first and not first.strip():
                first = self._fh.readline()
            if not first.strip():
                raise Invalid(f"{path.name}: a CSV input needs a header line", field="jobInput")
            self.header = first.strip()
            self._data_start = self._fh.tell()

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> LineInput:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def chunks(self, offset: int, max_lines: int) -> Iterator[Chunk]:
        """Chunks of up to ``max_lines`` lines from ``offset`` (0: the first data line)."""
        fh = self._fh
        fh.seek(max(offset, self._data_start))
        while True:
            lines: list[bytes] = []
            while len(lines) < max_lines:
                raw = fh.readline()
                if not raw:
                    break
                stripped = raw.strip()
                if stripped:
                    lines.append(stripped)
            if not lines:
                return
            yield Chunk(lines, fh.tell())


def partial_path(final: Path, job_id: str) -> Path:
    """Where job ``job_id`` writes ``final`` until it is complete."""
    return final.parent / f".{final.name}.{job_id}.part"


class ChunkedOutput:
    """The output file of one job, written under a temporary name, chunk after chunk."""

    def __init__(self, final: Path, job_id: str, offset: int) -> None:
        self.final = final
        self.temporary = partial_path(final, job_id)
        final.parent.mkdir(parents=True, exist_ok=True)
        mode = "r+b" if offset > 0 and self.temporary.exists() else "w+b"
        if offset > 0 and mode == "w+b":
            raise Conflict(
                f"the partial output {self.temporary} of this job is gone; it cannot resume",
                field="jobOutput",
            )
        self._fh = cast(BinaryIO, open(self.temporary, mode))  # noqa: SIM115 (see close())
        try:
            # one writer per output: a worker that lost its lease but still runs waits here
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._fh.close()
            raise Conflict(
                f"another worker is writing {self.temporary}", field="jobOutput"
            ) from None
        self._fh.truncate(offset)
        self._fh.seek(offset)
        self.offset = offset

    def append(self, data: bytes) -> int:
        """Write ``data`` durably; the offset after it."""
        self._fh.write(data)
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self.offset = self._fh.tell()
        return self.offset

    def publish(self) -> None:
        """Write the complete output's checksum beside its final name (``<name>.sha256``),
        then rename the output to that name."""
        self._fh.flush()
        os.fsync(self._fh.fileno())
        seal_file(self.temporary, self.final)
        os.replace(self.temporary, self.final)
        fsync_dir(self.final.parent)

    def close(self) -> None:
        self._fh.close()

    def discard(self) -> None:
        """Remove the temporary file (a job that failed for good)."""
        self.close()
        self.temporary.unlink(missing_ok=True)


class UsersInput:
    """Every user a model was trained on, as ``{"userId": ...}`` lines (a batch prediction's
    default input); offsets are user indices."""

    header: bytes | None = None

    def __init__(self, user_ids: Sequence[str] | np.ndarray) -> None:
        self.user_ids = user_ids

    def __len__(self) -> int:
        return len(self.user_ids)

    def close(self) -> None:
        pass

    def chunks(self, offset: int, max_lines: int) -> Iterator[Chunk]:
        for start in range(offset, len(self.user_ids), max_lines):
            end = min(start + max_lines, len(self.user_ids))
            lines = [orjson.dumps({"userId": str(u)}) for u in self.user_ids[start:end]]
            yield Chunk(lines, end)
