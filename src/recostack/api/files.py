"""``/api/files``: the input files that training parameters refer to (admin key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import FileResponse

from recostack.api.deps import AdminKey, SettingsDep
from recostack.api.errors import ERROR_RESPONSES, NAME_TOO_LONG, error_responses
from recostack.api.inputs import ContainerName, RelativePath
from recostack.api.schemas import FilePublic, FileUploadPublic
from recostack.errors import Invalid, NotFound, TooLarge
from recostack.store import files
from recostack.training.artifact_integrity import verify_file

__all__ = ["router"]

router = APIRouter(prefix="/api/files", tags=["files"], responses=ERROR_RESPONSES)

Container = Annotated[ContainerName, Path()]
FilePath = Annotated[RelativePath, Path()]
_NOT_FOUND = error_responses(e404="no such container or file")
_IN_A_FILE = {**_NOT_FOUND, **NAME_TOO_LONG}


@router.put(
    "/{container}/{path:path}",
    status_code=201,
    response_model=FileUploadPublic,
    summary="Upload a file (the raw request body), replacing any file at that path",
    responses={
        200: {"model": FileUploadPublic, "description": "an existing file was replaced"},
        **error_responses(
            e404="no such endpoint (a path with a line break reaches none)",
            e409="the path is a folder",
            e413="the file is over the size limit",
        ),
        **NAME_TOO_LONG,
    },
    openapi_extra={
        "requestBody": {
            # no body is an empty file
            "required": False,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def upload_file(
    container: Container,
    path: FilePath,
    request: Request,
    response: Response,
    _: AdminKey,
    settings: SettingsDep,
) -> FileUploadPublic:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Invalid("Content-Length is not a number", field="content-length")
        if int(declared) > settings.max_upload_bytes:
            raise TooLarge(
                f"the file is larger than {settings.max_upload_bytes} bytes", field="body"
            )
    stored, created = await files.save_stream(
        settings.files_dir, container, path, request.stream(), max_bytes=settings.max_upload_bytes
    )
    response.status_code = 201 if created else 200
    return FileUploadPublic.uploaded(container, stored)


@router.get("/{container}", summary="List the files of a container", responses=_NOT_FOUND)
def list_files(container: Container, _: AdminKey, settings: SettingsDep) -> list[FilePublic]:
    return [FilePublic.of(f) for f in files.list_container(settings.files_dir, container)]


@router.get(
    "/{container}/{path:path}",
    summary="Download a file",
    response_class=FileResponse,
    responses={
        **_IN_A_FILE,
        **error_responses(e503="the file differs from the checksum written with it (corrupt)"),
        200: {"content": {"application/octet-stream": {}}},
    },
)
def download_file(
    container: Container, path: FilePath, _: AdminKey, settings: SettingsDep
) -> FileResponse:
    target = files.resolve_path(settings.files_dir, container, path)
    if not target.is_file():
        raise NotFound(f"{path!r} is not a file in {container!r}", field="path")
    verify_file(target)  # a batch output is checked against its <name>.sha256
    return FileResponse(target, media_type="application/octet-stream", filename=target.name)


@router.delete(
    "/{container}/{path:path}",
    status_code=204,
    summary="Delete a file, or a folder and everything in it",
    responses=_IN_A_FILE,
)
def delete_file(
    container: Container, path: FilePath, _: AdminKey, settings: SettingsDep
) -> Response:
    files.delete_path(settings.files_dir, container, path)
    return Response(status_code=204)


@router.delete(
    "/{container}",
    status_code=204,
    summary="Delete a container and its files",
    responses=_NOT_FOUND,
)
def delete_container(container: Container, _: AdminKey, settings: SettingsDep) -> Response:
    files.delete_container(settings.files_dir, container)
    return Response(status_code=204)
