"""Peak memory of the client against hostile answers: a 500 MB body and a 4 MB gzip body
that inflates to 4 GB, each sent by a server in a child process (so only the client's memory
is measured), chunked so that no Content-Length announces the size.

    python -m benchmarks.hostile

Each case runs in a fresh process; the figure is its peak RSS (`ru_maxrss`) and the error
that ended the read.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
import socket
import sys
import zlib
from multiprocessing.connection import Connection

from aiohttp import web

MIB = 1024 * 1024


def _serve(kind: str, port: Connection) -> None:
    bomb = [zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)]

    async def handler(request: web.Request) -> web.StreamResponse:
        encoding = {"Content-Encoding": "gzip"} if kind == "gzip" else {}
        response = web.StreamResponse(headers=encoding)
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            if kind == "gzip":
                out = bomb[0]
                for _ in range(4096):  # 4 GiB of zeros
                    await response.write(out.compress(bytes(MIB)))
                await response.write(out.flush())
            else:
                for _ in range(500):  # 500 MiB
                    await response.write(b"x" * MIB)
        except ConnectionError:
            pass
        return response

    async def main() -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        site = web.SockSite(runner, sock)
        await site.start()
        port.send(sock.getsockname()[1])
        await asyncio.Event().wait()

    asyncio.run(main())


def _client(url: str, result: Connection) -> None:
    from douyin_async import DouyinClient, TalentMediaQuery
    from douyin_async.errors import DouyinError

    async def main() -> str:
        async with DouyinClient("token-value-0000", base_url=url, max_retries=0) as client:
            try:
                await client.fetch_page(TalentMediaQuery(plan_id=1, douyin_id="d"))
            except DouyinError as exc:
                return f"{type(exc).__name__}: {exc}"
        return "no error"

    outcome = asyncio.run(main())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result.send((outcome, peak))


def case(kind: str) -> tuple[str, float]:
    """Run one case; its outcome and the client's peak RSS in MiB."""
    context = multiprocessing.get_context("spawn")
    theirs, ours = context.Pipe()
    server = context.Process(target=_serve, args=(kind, theirs), daemon=True)
    server.start()
    try:
        port = ours.recv()
        client = context.Process(target=_client, args=(f"http://127.0.0.1:{port}", theirs))
        client.start()
        outcome: tuple[str, float] = ours.recv()
        client.join()
        return outcome
    finally:
        server.terminate()
        server.join()


def main() -> None:
    for kind, what in (("plain", "500 MiB body, chunked"), ("gzip", "gzip body of 4 GiB")):
        outcome, peak = case(kind)
        print(f"{what}: client peak RSS {peak:.0f} MiB; {outcome}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
