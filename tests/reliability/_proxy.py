"""A round-robin HTTP proxy for the reliability tests: ``python _proxy.py PORT UPSTREAM...``.

Each request goes to the next upstream in turn, as a load balancer in front
of stateless replicas would send it; nothing is retried, so a request that
failed at a replica fails at the client. An upstream that cannot be reached
is a 502 (the tests count it as a failed request). ``GET /__proxy`` answers
how many requests each upstream was sent.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx
import orjson
import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: hop-by-hop headers (RFC 9110 §7.6.1) and the length, which the proxy sets itself
_DROPPED = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "upgrade"}


class RoundRobin:
    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = upstreams
        self.sent = dict.fromkeys(upstreams, 0)
        self._next = itertools.cycle(upstreams)
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
        self._http = httpx.AsyncClient(timeout=60, limits=limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await self._http.aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["path"] == "/__proxy":
            await _answer(
                send, 200, [(b"content-type", b"application/json")], orjson.dumps(self.sent)
            )
            return
        upstream = next(self._next)
        self.sent[upstream] += 1
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in scope["headers"]
            if k.decode("latin-1").lower() not in _DROPPED
        ]
        query = scope.get("query_string", b"").decode("latin-1")
        url = upstream + scope["raw_path"].decode("latin-1") + (f"?{query}" if query else "")
        try:
            reply = await self._http.request(scope["method"], url, headers=headers, content=body)
        except httpx.HTTPError as exc:
            text = orjson.dumps({"error": "bad_gateway", "message": f"{upstream}: {exc!r}"})
            await _answer(send, 502, [(b"content-type", b"application/json")], text)
            return
        out = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in reply.headers.multi_items()
            if k.lower() not in _DROPPED and k.lower() != "content-encoding"
        ]
        await _answer(send, reply.status_code, out, reply.content)


async def _answer(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main(argv: list[str]) -> None:
    port, upstreams = int(argv[0]), argv[1:]
    uvicorn.run(
        RoundRobin(upstreams),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )


if __name__ == "__main__":
    main(sys.argv[1:])
