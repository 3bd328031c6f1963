"""Input files on disk: names that could leave the container are refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from recostack.errors import Conflict, Invalid, NotFound, TooLarge
from recostack.store import files


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def _save(root: Path, container: str, path: str, *parts: bytes, limit: int = 100) -> bool:
    _, created = asyncio.run(
        files.save_stream(root, container, path, _chunks(*parts), max_bytes=limit)
    )
    return created


@pytest.mark.parametrize(
    "path",
    ["../x", "a/../../x", "/etc/passwd", "a\\b", "a//b", "./a", "a/./b", "", "a\x00b", "x" * 2000],
)
def test_paths_that_could_escape_are_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(Invalid) as info:
        files.resolve_path(tmp_path, "c", path)
    assert info.value.field == "path"


@pytest.mark.parametrize("container", ["..", ".", "", "a/b", "-x", "x" * 64, "a b", "é"])
def test_bad_container_names_are_refused(tmp_path: Path, container: str) -> None:
    with pytest.raises(Invalid) as info:
        files.container_dir(tmp_path, container)
    assert info.value.field == "container"


def test_a_symlink_out_of_the_container_is_refused(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "link").symlink_to(tmp_path.parent)
    with pytest.raises(Invalid):
        files.resolve_path(tmp_path, "c", "link/secret")


def test_save_list_replace_delete(tmp_path: Path) -> None:
    assert _save(tmp_path, "c", "usage/a.csv", b"1,", b"2\n") is True
    assert _save(tmp_path, "c", "usage/a.csv", b"3\n") is False
    assert _save(tmp_path, "c", "b.csv", b"") is True
    listed = files.list_container(tmp_path, "c")
    assert [(f.path, f.size) for f in listed] == [("b.csv", 0), ("usage/a.csv", 2)]
    assert (tmp_path / "c" / "usage" / "a.csv").read_bytes() == b"3\n"
    files.delete_path(tmp_path, "c", "usage")
    assert [f.path for f in files.list_container(tmp_path, "c")] == ["b.csv"]
    with pytest.raises(NotFound):
        files.delete_path(tmp_path, "c", "usage")
    files.delete_container(tmp_path, "c")
    with pytest.raises(NotFound):
        files.list_container(tmp_path, "c")


def test_an_oversized_upload_leaves_the_old_file(tmp_path: Path) -> None:
    _save(tmp_path, "c", "a.csv", b"old")
    with pytest.raises(TooLarge):
        _save(tmp_path, "c", "a.csv", b"x" * 60, b"y" * 60)
    assert (tmp_path / "c" / "a.csv").read_bytes() == b"old"
    assert [p.name for p in (tmp_path / "c").iterdir()] == ["a.csv"]


def test_a_file_and_a_folder_cannot_share_a_name(tmp_path: Path) -> None:
    _save(tmp_path, "c", "a/b.csv", b"1")
    with pytest.raises(Conflict):
        _save(tmp_path, "c", "a", b"1")
    with pytest.raises(Conflict):
        _save(tmp_path, "c", "a/b.csv/c.csv", b"1")
