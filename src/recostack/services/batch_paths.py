"""Where batch jobs may read and write: the data root's containers, or configured folders.

A path is either ``<container>/<relative path>`` inside the data root's
input files (``s3://<container>/<path>`` is read the same way, for code
written against the managed service), or an absolute path inside the data
directory or one of ``RECOSTACK_BATCH_PATHS``. Anything else is refused
before a job is stored: the server never writes outside those folders.
"""

from __future__ import annotations

from pathlib import Path

from recostack.errors import Invalid, NotFound, Unprocessable
from recostack.settings import Settings
from recostack.store.files import resolve_path

__all__ = ["batch_input_path", "batch_output_path"]


def _resolve(settings: Settings, text: str, field: str) -> Path:
    if text.startswith("s3://"):
        text = text.removeprefix("s3://")
    if text.startswith("/"):
        path = Path(text).resolve()
        roots = [settings.data_dir.resolve(), *(Path(p).resolve() for p in settings.batch_paths)]
        if not any(path.is_relative_to(root) for root in roots):
            raise Unprocessable(
                f"{field}: {text!r} is outside the data directory and the folders the server "
                "may use for batch jobs (RECOSTACK_BATCH_PATHS)",
                field=field,
            )
        return path
    container, _, relative = text.partition("/")
    if not relative:
        raise Unprocessable(
            f"{field}: {text!r} names no file: give <container>/<path> or an absolute path",
            field=field,
        )
    try:
        return resolve_path(settings.files_dir, container, relative, field=field)
    except Invalid as exc:
        raise Unprocessable(exc.message, field=field) from None


def batch_input_path(settings: Settings, text: str, field: str = "jobInput") -> Path:
    """The input file ``text`` names (:class:`NotFound` when there is no such file)."""
    path = _resolve(settings, text, field)
    if not path.is_file():
        raise NotFound(f"{field}: there is no file {text!r}", field=field)
    return path


def batch_output_path(
    settings: Settings,
    text: str,
    field: str = "jobOutput",
    *,
    input_path: Path | None = None,
    default_name: str = "batch.out",
) -> Path:
    """The output file ``text`` names (it may not exist yet). A folder, written with a
    trailing ``/`` as the managed service takes it, gets ``<input name>.out`` (else
    ``default_name``) inside it."""
    if text.endswith("/"):
        name = f"{input_path.name}.out" if input_path is not None else default_name
        return batch_output_path(settings, text + name, field, input_path=input_path)
    path = _resolve(settings, text, field)
    if path.is_dir():
        raise Unprocessable(f"{field}: {text!r} is a folder; name the output file", field=field)
    if input_path is not None and path == input_path:
        raise Unprocessable(f"{field}: the output would overwrite the input", field=field)
    for parent in path.parents:
        if parent.is_file():
            raise Unprocessable(f"{field}: {parent} is a file, not a folder", field=field)
    return path
