"""Parsing reports, in the reference's schema.

A report counts the lines of one input (a catalog file, or all the files of
a usage path), and for each error code how often it happened and where it
first did (``sample``: file and 1-based line number).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ERROR_CODES",
    "ParsingError",
    "ParsingErrorSample",
    "ParsingReport",
    "format_timespan",
]

ERROR_CODES = (
    "MalformedLine",
    "MissingFields",
    "BadTimestampFormat",
    "BadWeightFormat",
    "MalformedCatalogItemFeature",
    "ItemIdTooLong",
    "IllegalCharactersInItemId",
    "UserIdTooLong",
    "IllegalCharactersInUserId",
    "UnknownItemId",
    "DuplicateItemId",
)


def format_timespan(seconds: float) -> str:
    """A duration as a .NET-style time span, ``hh:mm:ss.fffffff``."""
    seconds = max(0.0, float(seconds))
    hours, rest = divmod(seconds, 3600.0)
    minutes, secs = divmod(rest, 60.0)
    return f"{int(hours):02d}:{int(minutes):02d}:{secs:010.7f}"


@dataclass(frozen=True)
class ParsingErrorSample:
    file: str
    line: int

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line}


@dataclass
class ParsingError:
    error: str
    count: int
    sample: ParsingErrorSample

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.error, "count": self.count, "sample": self.sample.to_dict()}


@dataclass
class ParsingReport:
    """What parsing one input found. ``duration`` is in seconds."""

    duration: float = 0.0
    errors: list[ParsingError] = field(default_factory=list)
    successful_lines_count: int = 0
    total_lines_count: int = 0

    def add_error(self, code: str, count: int, file: str, line: int) -> None:
        """Count ``count`` occurrences of ``code``; keep the earliest sample."""
        if code not in ERROR_CODES:
            raise ValueError(f"unknown parsing error code {code!r}")
        if count <= 0:
            return
        for existing in self.errors:
            if existing.error == code:
                existing.count += count
                return
        self.errors.append(ParsingError(code, count, ParsingErrorSample(file, line)))

    def error_count(self, code: str) -> int:
        return sum(e.count for e in self.errors if e.error == code)

    def summary(self) -> str:
        """What was read, in a few words: ``3 lines, 3 errors: MalformedLine x2, ...``."""
        lines = self.total_lines_count
        if lines == 0:
            return "no non-blank line"
        n_errors = sum(e.count for e in self.errors)
        details = ", ".join(f"{e.error} x{e.count}" for e in self.errors)
        return (
            f"{lines} line{'s' if lines != 1 else ''}, "
            f"{n_errors} error{'s' if n_errors != 1 else ''}: {details}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "duration": format_timespan(self.duration),
            "errors": [e.to_dict() for e in self.errors],
            "successfulLinesCount": self.successful_lines_count,
            "totalLinesCount": self.total_lines_count,
        }
