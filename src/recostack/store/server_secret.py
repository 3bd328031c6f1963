"""The server secret: ``RECOSTACK_SECRET_KEY``, else a key generated once into
``<data_dir>/secret.key`` (owner-only).

Webhook secrets derive from it and API key digests are keyed by it; it is
never written to the database. Processes on other machines need the same
secret: set the variable there.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from recostack.serving.keys import KeySecret
from recostack.settings import Settings

__all__ = ["SECRET_FILE", "key_secret", "server_secret"]

SECRET_FILE = "secret.key"


def server_secret(settings: Settings) -> bytes:
    """The server secret (generated into the data directory on first use)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = settings.data_dir / SECRET_FILE
    if not path.exists():
        _write_key(path)
    return path.read_text().strip().encode()


def key_secret(settings: Settings) -> KeySecret:
    """The server secret as API key digests use it."""
    return KeySecret(server_secret(settings))


def _write_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_hex(32))
        out.flush()
        os.fsync(out.fileno())
    try:
        # whole or not at all, and the first process to get there wins
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
