"""Injected faults of the data endpoints, drawn from a seeded generator.

Kinds (each with its own rate in ``SandboxConfig``):

- ``server_error``: HTTP 200 with the endpoint's internal-error code (28001005 / 2100004).
- ``bad_gateway``: HTTP 502 with an HTML page, as a proxy in front of the API would send.
- ``reset``: the connection is reset without an answer.
- ``cut_body``: a 200 answer whose Content-Length announces the full body, of which only
  the first half is sent before the connection closes.
- ``rate_limit``: a spurious 28003018 answer although the cap was not reached.
- ``slow``: the answer is held back ``slow_seconds`` (a client timeout should fire first).
"""

from __future__ import annotations

import random
import socket
import struct

from aiohttp import web

from .config import FAULT_KINDS, SandboxConfig

BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


class FaultDice:
    """One draw per data request decides its fault (or none)."""

    def __init__(self, config: SandboxConfig) -> None:
        self._rng = random.Random(f"faults:{config.seed}")
        self._rates = [(kind, config.fault_rates()[kind]) for kind in FAULT_KINDS]
        self.active = any(rate > 0 for _, rate in self._rates)

    def roll(self) -> str | None:
        """A fault kind, or None for a normal answer."""
        if not self.active:
            return None
        u = self._rng.random()
        for kind, rate in self._rates:
            if u < rate:
                return kind
            u -= rate
        return None


def bad_gateway() -> web.Response:
    """A 502 with an HTML body."""
    return web.Response(status=502, text=BAD_GATEWAY_HTML, content_type="text/html")


def reset_connection(request: web.BaseRequest) -> web.Response:
    """Reset the connection (RST, no answer). The returned response is never sent."""
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    return web.Response(status=500)


async def cut_body(request: web.BaseRequest, body: bytes) -> web.StreamResponse:
    """Announce ``len(body)`` bytes, send the first half, then close the connection."""
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    response.content_length = len(body)
    await response.prepare(request)
    await response.write(body[: len(body) // 2])
    if request.transport is not None:
        request.transport.close()
    return response
