"""Reading a file in blocks of whole lines: one read and one decode per block."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

__all__ = ["iter_line_blocks"]


def iter_line_blocks(
    fh: BinaryIO, block_bytes: int, max_line_bytes: int
) -> Iterator[tuple[bytes, bool]]:
    """Blocks of whole lines (``\\n``-terminated but for the file's last).

    Yields ``(block, overlong)``; ``overlong`` marks a placeholder block
    ``b"\\n"`` standing for one line longer than ``max_line_bytes`` (which
    was skipped, not held in memory). A UTF-8 byte order mark is dropped.
    """
    carry = b""
    first = True
    skipping = False
    while True:
        chunk = fh.read(max(block_bytes, 3) if first else block_bytes)
        at_end = not chunk
        if first:
            first = False
            if chunk.startswith(b"\xef\xbb\xbf"):
                chunk = chunk[3:]
        if at_end:
            if skipping:
                yield b"\n", True
            elif carry:
                yield carry, False
            return
        if skipping:
            cut = chunk.find(b"\n")
            if cut < 0:
                continue
            yield b"\n", True
            skipping = False
            chunk = chunk[cut + 1 :]
        buf = carry + chunk if carry else chunk
        cut = buf.rfind(b"\n")
        if cut < 0:
            carry = buf
        else:
            if cut + 1 < len(buf):
                carry = buf[cut + 1 :]
                buf = buf[: cut + 1]
            else:
                carry = b""
            yield buf, False
        if len(carry) > max_line_bytes:
            carry = b""
            skipping = True
