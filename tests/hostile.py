"""Hostile or broken servers on 127.0.0.1: any handler served over plain HTTP or TLS (a
private CA from trustme), each keeping what it was sent."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import attrs
import trustme
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@attrs.define
class Seen:
    """One request as a server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@attrs.define
class Server:
    """A running server: its base URL and the requests it got."""

    url: str
    seen: list[Seen] = attrs.Factory(list)
    port: int = 0


@attrs.frozen
class Tls:
    """A private CA and a certificate of 127.0.0.1 / localhost signed by it."""

    server: ssl.SSLContext
    client: ssl.SSLContext


def tls() -> Tls:
    """Contexts for a TLS server on 127.0.0.1 and a client that trusts it."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return Tls(server, client)


@asynccontextmanager
async def serve(handler: Handler, *, context: ssl.SSLContext | None = None,
                host: str = "127.0.0.1") -> AsyncIterator[Server]:
    """Serve `handler` on `host` (a free port), over TLS when given a `context`."""
    server = Server("")

    async def keep(request: web.Request) -> web.StreamResponse:
        server.seen.append(Seen(request.method, request.path, dict(request.headers),
                                await request.read()))
        return await handler(request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", keep)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, host, 0, ssl_context=context)
    await site.start()
    server.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.url = f"{'https' if context else 'http'}://{host}:{server.port}"
    try:
        yield server
    finally:
        await runner.cleanup()


def json_answer(obj: Any, status: int = 200, **headers: str) -> web.Response:
    """A JSON answer."""
    return web.json_response(obj, status=status, headers=headers)
