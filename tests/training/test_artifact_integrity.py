"""Checksummed artifacts: a model folder or batch output that differs from the digests
written with it is refused with an error naming the file, never served."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from recostack.errors import Unavailable
from recostack.settings import Settings
from recostack.training.artifact_integrity import (
    MANIFEST,
    checksum_path,
    seal_file,
    seal_model_dir,
    verify_file,
    verify_model_dir,
)


def _flip_one_byte(path: Path, at: int = -1) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_sealed_folder_is_checked_file_by_file(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.npy").write_bytes(b"\x93NUMPY" + bytes(range(200)))
    (folder / "sub" / "b.json").write_text('{"b": 1}')
    seal_model_dir(folder)
    verify_model_dir(folder)
    # the list is what sha256sum -c reads
    checked = subprocess.run(
        ["sha256sum", "-c", MANIFEST], cwd=folder, capture_output=True, text=True, check=True
    )
    assert checked.stdout.count(": OK") == 2
    (folder / "unlisted.tmp").write_text("not part of the model")
    verify_model_dir(folder)  # files the list does not name are not the model's

    _flip_one_byte(folder / "a.npy", 100)
    with pytest.raises(Unavailable, match=r"corrupt: a\.npy has SHA-256 [0-9a-f]{64}"):
        verify_model_dir(folder)
    seal_model_dir(folder)
    (folder / "sub" / "b.json").unlink()
    with pytest.raises(Unavailable, match=r"corrupt: sub/b\.json is missing"):
        verify_model_dir(folder)
    (folder / MANIFEST).write_text("not a digest line\n")
    with pytest.raises(Unavailable, match=r"line 1 of SHA256SUMS"):
        verify_model_dir(folder)
    (folder / MANIFEST).unlink()
    with pytest.raises(Unavailable, match=r"no SHA256SUMS: they were not written completely"):
        verify_model_dir(folder)


def test_a_corrupt_model_is_refused_by_the_api_with_the_file_named(
    client: TestClient,
    admin_headers: dict[str, str],
    trained_model: dict[str, Any],
    settings: Settings,
) -> None:
    model_dir = settings.models_dir / trained_model["id"]
    assert (model_dir / MANIFEST).is_file()
    target = sorted(model_dir.glob("similarity_data.npy"))[0]
    _flip_one_byte(target)
    answer = client.get(
        f"/api/models/{trained_model['id']}/recommend",
        params={"itemId": "item1"},
        headers=admin_headers,
    )
    assert answer.status_code == 503
    body = answer.json()
    assert body["error"] == "unavailable" and body["field"] == "modelId"
    assert "corrupt: similarity_data.npy has SHA-256" in body["message"]


def test_a_corrupt_batch_output_is_not_downloaded(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    folder = settings.files_dir / "output"
    folder.mkdir(parents=True)
    final = folder / "scores.jsonl"
    partial = folder / ".scores.jsonl.job.part"
    partial.write_bytes(b'{"userId": "u1", "recommendedItems": ["a"]}\n')
    seal_file(partial, final)
    partial.rename(final)
    verify_file(final)
    assert checksum_path(final).read_text().endswith("  scores.jsonl\n")
    ok = client.get("/api/files/output/scores.jsonl", headers=admin_headers)
    assert ok.status_code == 200 and ok.content.startswith(b'{"userId"')
    _flip_one_byte(final, 3)
    refused = client.get("/api/files/output/scores.jsonl", headers=admin_headers)
    assert refused.status_code == 503
    assert "scores.jsonl is corrupt" in refused.json()["message"]


def test_a_finished_batch_job_writes_its_checksum(
    client: TestClient,
    admin_headers: dict[str, str],
    trained_model: dict[str, Any],
    settings: Settings,
    run_jobs: Callable[[], int],
) -> None:
    source = settings.files_dir / "input" / "users.jsonl"
    source.write_text("\n".join(f'{{"userId": "user{i}"}}' for i in range(5)) + "\n")
    created = client.post(
        "/api/batch-inference-jobs",
        json={
            "jobName": "sealed",
            "solutionVersionArn": trained_model["id"],
            "jobInput": {"path": "input/users.jsonl"},
            "jobOutput": {"path": "output/users.out"},
        },
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    assert run_jobs() == 1
    output = settings.files_dir / "output" / "users.out"
    verify_file(output)
    checked = subprocess.run(
        ["sha256sum", "-c", checksum_path(output).name],
        cwd=output.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert checked.stdout.strip() == "users.out: OK"
