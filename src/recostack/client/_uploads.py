"""What an upload answers: a stored input file, the customer records written."""

from __future__ import annotations

from datetime import datetime

from recostack.client._wire import WireRecord

__all__ = ["CustomersWritten", "UploadedFile"]


class UploadedFile(WireRecord):
    """An input file stored by ``upload_file``; ``path`` is relative to ``container``."""

    container: str
    path: str
    size: int
    modified_time: datetime


class CustomersWritten(WireRecord):
    """How many customer records ``upload_customers`` / ``add_customers`` wrote."""

    collection: str
    written: int
