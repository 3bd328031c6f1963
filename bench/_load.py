"""HTTP load on loopback: wrk when installed, else an async httpx loop; same requests either way.

A load is a list of requests ``(method, path with query, JSON body or None)``
sent in random order (seeded) by ``connections`` keep-alive connections for
``duration`` seconds. Figures: requests per second, p50 and p99 latency in
ms, non-2xx answers, socket errors.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence

import httpx
import numpy as np

Request = tuple[str, str, str | None]

__all__ = ["Request", "generator", "run_load"]


def generator() -> str:
    return "wrk -t1" if shutil.which("wrk") else "httpx async loop"


def run_load(
    base: str, key: str, requests: Sequence[Request], duration: float, connections: int
) -> dict[str, float | str]:
    """Drive ``base`` with ``requests``; a non-2xx answer or a socket error is an error."""
    if shutil.which("wrk"):
        figures = _run_wrk(base, _wrk_script(key, requests), duration, connections)
    else:
        figures = _run_httpx(base, key, requests, duration, connections)
    if figures["non_2xx"] or figures["socket_errors"]:
        raise RuntimeError(f"failed requests against {base}: {figures}")
    return figures


def _lua_string(text: str) -> str:
    level = "=" * 4
    while f"]{level}]" in text:
        level += "="
    return f"[{level}[{text}]{level}]"


def _wrk_script(key: str, requests: Sequence[Request]) -> str:
    rows = ",\n".join(
        "{ " + ", ".join(_lua_string(v) if v is not None else "nil" for v in r) + " }"
        for r in requests
    )
    return (
        f'wrk.headers["x-api-key"] = {_lua_string(key)}\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        "math.randomseed(7)\n"
        f"local requests = {{\n{rows}\n}}\n"
        "request = function()\n"
        "  local r = requests[math.random(#requests)]\n"
        "  return wrk.format(r[1], r[2], nil, r[3])\n"
        "end\n"
    )


def _parse_wrk(out: str) -> dict[str, float | str]:
    def ms(text: str) -> float:
        value = float(re.match(r"[\d.]+", text).group(0))  # type: ignore[union-attr]
        if text.endswith("us"):
            return value / 1000
        if text.endswith("ms"):
            return value
        return value * 1000

    lat = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)", out, flags=re.M))
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rps is None or "50" not in lat:
        raise RuntimeError(f"wrk gave no figures:\n{out}")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(rps.group(1)),
        "p50_ms": ms(lat["50"]),
        "p99_ms": ms(lat["99"]),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


def _run_wrk(url: str, script: str, duration: float, connections: int) -> dict[str, float | str]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
    seconds = max(1, round(duration))
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", fh.name, url],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        ).stdout
    finally:
        os.unlink(fh.name)
    return _parse_wrk(out)


def _run_httpx(
    base: str, key: str, requests: Sequence[Request], duration: float, connections: int
) -> dict[str, float | str]:
    rng = random.Random(7)
    latencies: list[float] = []
    failures = 0

    async def worker(client: httpx.AsyncClient, deadline: float) -> None:
        nonlocal failures
        while time.perf_counter() < deadline:
            method, path, body = requests[rng.randrange(len(requests))]
            t = time.perf_counter()
            answer = await client.request(
                method,
                path,
                content=body,
                headers={"content-type": "application/json"} if body is not None else None,
            )
            latencies.append(time.perf_counter() - t)
            failures += answer.status_code // 100 != 2

    async def main() -> float:
        limits = httpx.Limits(max_connections=connections)
        async with httpx.AsyncClient(
            base_url=base, headers={"x-api-key": key}, limits=limits, timeout=60
        ) as client:
            start = time.perf_counter()
            deadline = start + duration
            await asyncio.gather(*(worker(client, deadline) for _ in range(connections)))
            return time.perf_counter() - start

    elapsed = asyncio.run(main())
    arr = np.array(latencies) * 1000
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": float(np.percentile(arr, 50)),
        "p99_ms": float(np.percentile(arr, 99)),
        "non_2xx": failures,
        "socket_errors": "",
    }
