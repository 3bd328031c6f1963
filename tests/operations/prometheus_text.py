"""Reading the Prometheus text format in tests: one metric's samples, a request count."""

from __future__ import annotations

import re

__all__ = ["request_count", "samples"]


def samples(text: str, name: str) -> dict[str, float]:
    """``{labels: value}`` of one metric in the Prometheus text format."""
    found = {}
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}(\{{.*\}})? ([0-9.e+-]+)", line)
        if match:
            found[match.group(1) or ""] = float(match.group(2))
    return found


def request_count(text: str, route: str, method: str, status: int) -> float:
    """``recostack_http_requests_total`` of one route template, method and status."""
    labels = f'{{method="{method}",route="{route}",status="{status}"}}'
    return samples(text, "recostack_http_requests_total").get(labels, 0.0)
