"""What a webhook sends: its payload (a template with placeholders) and its signature.

A payload template is a JSON object whose strings may hold placeholders,
``{{name}}``: a string that is exactly one placeholder becomes the value
itself (a number stays a number), any other string has each placeholder
replaced by the value's text. Names are the event's fields
(:data:`PLACEHOLDERS`); one that no event has is refused when the webhook
is created. Without a template the payload is ``{"eventType",
"deploymentId", "timestamp", "deliveryId", "data": {...}}``.

Each webhook has its own secret, derived from the server's key and the
webhook's salt (HMAC-SHA256; the secret itself is stored nowhere) and shown
once, when the webhook is created. A delivery carries
``X-Recostack-Signature: t=<unix time>,v1=<hex>``, the HMAC-SHA256 of
``"<unix time>.<body>"`` with that secret (:func:`signature`, and
:func:`verify_signature` for receivers).

>>> render({"text": "{{eventType}} of {{deploymentId}}", "n": "{{attempt}}"},
...        {"eventType": "MODEL_TRAINED", "deploymentId": "web", "attempt": 2})
{'text': 'MODEL_TRAINED of web', 'n': 2}
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any

from recostack.errors import Invalid

__all__ = [
    "PLACEHOLDERS",
    "SIGNATURE_HEADER",
    "check_template",
    "derive_secret",
    "render",
    "signature",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Recostack-Signature"
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")

#: every name a template may use: the envelope, then the events' fields
PLACEHOLDERS = frozenset(
    {
        "eventType",
        "deploymentId",
        "timestamp",
        "deliveryId",
        "attempt",
        "data",
        # deployments and promotions
        "version",
        "status",
        "error",
        "modelVersion",
        "previousModelVersion",
        "reason",
        "decision",
        "metric",
        # models
        "modelId",
        "modelStatus",
        "message",
        # alerts
        "alertId",
        "alertName",
        "state",
        "value",
        "threshold",
        "condition",
        # batch jobs
        "batchPredictionId",
        "outputPath",
    }
)


def check_template(template: Any, field: str = "payloadTemplate") -> None:
    """:class:`Invalid` naming the first unknown placeholder of ``template``."""
    for text in _strings(template):
        for name in _PLACEHOLDER.findall(text):
            if name not in PLACEHOLDERS:
                raise Invalid(
                    f"{field}: unknown placeholder {{{{{name}}}}}; known: {sorted(PLACEHOLDERS)}",
                    field=field,
                )


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def render(template: Any, values: Mapping[str, Any]) -> Any:
    """``template`` with its placeholders replaced by ``values`` (missing ones: ``null``/"")."""
    if isinstance(template, str):
        whole = _PLACEHOLDER.fullmatch(template)
        if whole is not None:
            return values.get(whole.group(1))
        return _PLACEHOLDER.sub(lambda m: _text(values.get(m.group(1))), template)
    if isinstance(template, Mapping):
        return {render(k, values): render(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, values) for v in template]
    return template


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def derive_secret(server_key: bytes, webhook_id: str, salt: str) -> str:
    """The webhook's secret (url-safe text), the same in every process holding the key."""
    digest = hmac.new(server_key, f"webhook:{webhook_id}:{salt}".encode(), hashlib.sha256)
    return "whsec_" + base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the ``X-Recostack-Signature`` header."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(secret: str, header: str, body: bytes) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` (what a receiver checks)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)
